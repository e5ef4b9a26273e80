#!/usr/bin/env bash
# Per-host counters in BPF on a device without a link-layer header (docs/runtime.md, "Per-host
# counters in BPF"): a tun device (ARPHRD_NONE), where a TCX program finds the IP header at the
# first byte. A process on the tun's other end writes ICMP echo requests from 198.18.5.2 into
# it and reads the kernel's replies; `in via tun; split host source` and `out via tun; split
# host destination` count them in BPF exactly, and after moving into nft sets (--hosts-in nft)
# the sets go on from the same counts. Private mount namespace and bpffs (ACCTC_BPF_ROOT).
#   bpf_l3_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
router=bpfl3$$
add_namespace "$router"
ip -n "$router" tuntap add mode tun dev tn0 || fail "no tun device"
ip -n "$router" addr add 198.18.5.1/24 dev tn0
ip -n "$router" link set tn0 up

# pings COUNT: writes COUNT echo requests 198.18.5.2 -> 198.18.5.1 into tn0 and prints how many
# replies to 198.18.5.2 came back out of it.
cat >"$work/pings.py" <<'PY'
import fcntl, os, select, struct, sys, time
count = int(sys.argv[1])
tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, 0x400454CA, struct.pack("16sH", b"tn0", 0x0001 | 0x1000))  # IFF_TUN | IFF_NO_PI
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
# Opening the tun gives it carrier; its queue is activated by linkwatch within a second, and
# until then what the kernel sends out of it is dropped.
time.sleep(1.5)
src, dst = bytes([198, 18, 5, 2]), bytes([198, 18, 5, 1])
for seq in range(count):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + bytes(56)
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0, 64, 1, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    os.write(tun, header + icmp)
replies, deadline = 0, time.time() + 3
while replies < count and time.time() < deadline:
    if select.select([tun], [], [], 0.2)[0]:
        packet = os.read(tun, 2048)
        if packet[0] >> 4 == 4 and packet[16:20] == src and packet[9] == 1 and packet[20] == 0:
            replies += 1
print(replies)
PY
pings() { ip netns exec "$router" python3 "$work/pings.py" "$1"; }

cat >"$work/l3.acct" <<'POLICY'
policy l3
interface tun = tn0
counter sent { in via tun; split host source }
counter received { out via tun; split host destination }
POLICY
acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }
count() { # COUNTER -> "packets bytes" of host 198.18.5.2
    acctc_r counters l3 --json |
        jq -r --arg c "$1" '[.counters[] | select(.counter == $c and .labels.host == "198.18.5.2")] |
            if length == 0 then "0 0" else "\(.[0].packets) \(.[0].bytes)" end'
}
expect() { # SENT RECEIVED WHEN
    [[ $(count sent) == "$1 $(($1 * 84))" ]] || fail "sent: $(count sent), expected $1 packets ($3)"
    [[ $(count received) == "$2 $(($2 * 84))" ]] || fail "received: $(count received), expected $2 packets ($3)"
}

acctc_r apply --hosts-in auto "$work/l3.acct" >"$work/out" 2>&1 || fail "apply failed: $(cat "$work/out")"
grep -q notice "$work/out" && fail "fell back to nft on a tun device: $(cat "$work/out")"
pins=$(find "$ACCTC_BPF_ROOT/acctc" -name link | wc -l)
[[ $pins == 2 ]] || fail "$pins pinned links, not 2"
replies=$(pings 5)
[[ $replies == 5 ]] || fail "$replies replies of 5"
expect 5 5 "in BPF"

acctc_r apply --hosts-in nft "$work/l3.acct" >/dev/null 2>&1 || fail "apply --hosts-in nft failed"
replies=$(pings 3)
[[ $replies == 3 ]] || fail "$replies replies of 3"
expect 8 8 "moved into nft sets, 3 more"
acctc_r remove l3 >/dev/null || fail "remove failed"

# With NAT in the namespace a program at egress would see translated sources: that counter
# stays in nft sets (with a notice), the one keyed by the untranslated destination goes to BPF.
ip netns exec "$router" nft add table ip nat_test
ip netns exec "$router" nft add chain ip nat_test post '{ type nat hook postrouting priority srcnat; }'
cat >"$work/nat.acct" <<'POLICY'
policy natted
interface tun = tn0
counter sources { out via tun; split host source }
counter destinations { out via tun; split host destination }
POLICY
acctc_r apply --hosts-in auto "$work/nat.acct" >/dev/null 2>"$work/err" || fail "apply with NAT failed: $(cat "$work/err")"
grep -q "per-host counter sources counts in nft sets: .*translates addresses" "$work/err" ||
    fail "no notice for the source counter under NAT: $(cat "$work/err")"
grep -q destinations "$work/err" && fail "the destination counter fell back too: $(cat "$work/err")"
ip netns exec "$router" nft list table inet acctc_natted | grep -q "set sources_hosts_v4" ||
    fail "sources is not in nft sets"
[[ $(find "$ACCTC_BPF_ROOT/acctc" -name link | wc -l) == 1 ]] || fail "not one pinned link (destinations)"
acctc_r remove natted >/dev/null || fail "remove natted failed"
echo "ok: BPF on a tun device (no link-layer header) = the packets written and read (5 each way), 8 after moving into nft sets; under NAT the source-keyed egress counter stays in nft"
