#!/usr/bin/env bash
# Fragments past the first match no port and no ICMP type (docs/counting.md, "Ports of
# fragments"), on every backend and in BPF: a LAN host sends, through a router, fragments past
# the first whose data (IPv4) and flow label (IPv6) read as UDP port 53 or 7100 to a reader that
# ignores the fragment offset, and an IPv4 ICMP fragment whose data reads as an echo request,
# among real datagrams (small, and of 3,000 bytes, fragmented) and pings. On nft,
# iptables-legacy, iptables-nft, and with the classification counted in BPF, every counter and
# class equals what a capture on the WAN host's side of the wire gives by the same rules, ports
# only where a packet has them, and the echo counter equals ping's own tally.
#   fragment_ports_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
router_between_lan_and_wan frp$$
router_addresses 198.18.1.10 2001:db8:1::10

cat >"$work/fp.acct" <<'POLICY'
policy fp
interface wan = wan0
counter dns { forward out via wan; udp dport 53 }
counter udp_all { forward out via wan; udp }
counter echo { forward out via wan; icmp echo-request }
classify up forward out via wan {
    dns: udp dport 53
    high: udp dport 7000..7999
    otherwise: rest
}
POLICY
acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }

# The crafted fragments (raw sockets: the kernel sends them as they are), then real traffic.
traffic() {
    ip netns exec "$lan" python3 - <<'PY'
import socket, struct
def checksum(header):
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff
def fragment4(protocol, data, ident):  # the last fragment, at offset 1480
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, 185, 64, protocol, 0,
                         socket.inet_aton("198.18.1.10"), socket.inet_aton("198.18.2.2"))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + data
def fragment6(label, data, ident):  # the last fragment, at offset 1448, flow label `label`
    payload = struct.pack("!BBHI", 17, 0, 1448, ident) + data
    return struct.pack("!IHBB16s16s", (6 << 28) | label, len(payload), 44, 64,
                       socket.inet_pton(socket.AF_INET6, "2001:db8:1::10"),
                       socket.inet_pton(socket.AF_INET6, "2001:db8:2::2")) + payload
ident = 0x4000
with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw4, \
     socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw6:
    for port, count in ((53, 4), (7100, 3)):
        for _ in range(count):
            ident += 1
            raw4.sendto(fragment4(17, struct.pack("!HH", 0x7878, port) + b"x" * 92, ident),
                        ("198.18.2.2", 0))
            raw6.sendto(fragment6(port, struct.pack("!HH", 0x7878, port) + b"x" * 92, ident),
                        ("2001:db8:2::2", 0))
    for _ in range(2):
        ident += 1
        raw4.sendto(fragment4(1, bytes([8, 0]) + b"x" * 62, ident), ("198.18.2.2", 0))
for family, target in ((socket.AF_INET, "198.18.2.2"), (socket.AF_INET6, "2001:db8:2::2")):
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        for port, size, count in ((53, 40, 3), (53, 3000, 2), (7100, 20, 2), (9, 10, 1)):
            for _ in range(count):
                s.sendto(b"y" * size, (target, port))
PY
    pings=$(ip netns exec "$lan" ping -n -q -c 3 -i 0.01 198.18.2.2 | awk '/transmitted/ { print $1 }')
    ip netns exec "$lan" ping -n -q -c 2 -i 0.01 2001:db8:2::2 >/dev/null
}
# What the policy counts of the capture: "COUNTER PACKETS BYTES" (the echo counter aside).
partition() { # WIRE
    python3 - "$1" <<'PY'
import collections, sys
counts = collections.defaultdict(lambda: [0, 0])
for name in ("dns", "udp_all", "up_dns", "up_high", "up_rest"):
    counts[name]
for line in open(sys.argv[1]):
    source, destination, length, fragment, protocol, port = line.split()
    if source not in ("198.18.1.10", "2001:db8:1::10"):
        continue
    names = []
    port = None if port == "-" else int(port)
    if protocol == "17":
        names.append("udp_all")
        if port == 53:
            names.append("dns")
    names.append("up_dns" if protocol == "17" and port == 53 else
                 "up_high" if protocol == "17" and port is not None and 7000 <= port <= 7999 else
                 "up_rest")
    for name in names:
        counts[name][0] += 1
        counts[name][1] += int(length)
for name, (packets, bytes_) in sorted(counts.items()):
    print(name, packets, bytes_)
PY
}
readings() {
    acctc_r counters fp --json | jq -r '.counters[] | select(.name != "echo") |
        "\(.name) \(.packets) \(.bytes)"' | sort
}
echo_count() {
    acctc_r counters fp --json | jq '[.counters[] | select(.name == "echo") | .packets] | add'
}

for variant in nft iptables-legacy iptables-nft bpf; do
    case $variant in
    bpf) options=(--backend nft --classes-in bpf) ;;
    *) options=(--backend "$variant") ;;
    esac
    acctc_r apply "${options[@]}" "$work/fp.acct" >"$work/out" 2>&1 ||
        fail "$variant: apply failed: $(cat "$work/out")"
    if [[ $variant == bpf ]]; then
        [[ $(find "$ACCTC_BPF_ROOT/acctc" -name link | wc -l) == 1 ]] ||
            fail "bpf: the classification is not counted in BPF: $(cat "$work/out")"
    fi
    capture_start "$wan" eth0 "$work/wire.pcap"
    traffic
    capture_stop
    wire_packets "$work/wire.pcap" >"$work/wire"
    # 16 crafted, and two past the first of each 3,000-byte datagram.
    [[ $(grep -c ' rest ' "$work/wire") == 24 ]] ||
        fail "$variant: $(grep -c ' rest ' "$work/wire") fragments past the first on the wire, not 24"
    partition "$work/wire" >"$work/expected"
    readings >"$work/counted"
    diff -u "$work/expected" "$work/counted" >&2 || fail "$variant: the counters differ from the wire"
    [[ $(echo_count) == "$pings" ]] || fail "$variant: echo counted $(echo_count), ping sent $pings"
    acctc_r remove fp >/dev/null 2>&1 || fail "$variant: remove failed"
done
finish
