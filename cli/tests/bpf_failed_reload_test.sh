#!/usr/bin/env bash
# A reload that fails leaves what counts in BPF as it was (docs/runtime.md, "Classes in BPF"):
# a router counts per LAN host and two classifications (ports, networks) in BPF, as policy
# `inbpf`, and the same policy in nft rules and sets, as `innft`. Then two reloads of `inbpf`
# fail, each after its BPF part changed everything it could (ports swapped between classes, a
# new class, the networks moved to another device with other prefixes, the per-host counter keyed
# by destination, which means new maps): one refused by nft in the commit (a cgroup that does
# not exist), one in BPF itself (a classification on a device that does not exist, after the
# others were applied). After each: the same pins, the same readings as just before, and
# traffic counted by the old policy: BPF equals nft and a capture on the WAN host's side of the
# wire, which the test partitions by the old policy itself. Private mount namespace and bpffs.
#   bpf_failed_reload_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
router_between_lan_and_wan bpff$$
router_addresses 198.18.1.10 198.18.1.11 2001:db8:1::10
host_addresses "$wan" wan0 198.18.2.200 2001:db8:2::200

policy() { # NAME
    cat <<POLICY
policy $1
interface wan = wan0
classify ports forward out via wan {
    web: udp dport 80
    dns: udp dport 53
    otherwise: rest
}
classify nets forward out via wan {
    near: to 198.18.2.0/25, 2001:db8:2::/120
    far: to 198.18.2.128/25
}
counter lan_hosts { forward out via wan; split host source }
POLICY
}
# Everything changed, as the reload sees it: ports swapped and a new class, the networks on
# lan0's ingress with other prefixes, the per-host counter by destination (new maps).
changed() {
    cat <<'POLICY'
policy inbpf
interface wan = wan0
interface lan = lan0
classify ports forward out via wan {
    web: udp dport 53
    dns: udp dport 80
    new: udp dport 9000
    otherwise: rest
}
classify nets forward in via lan {
    near: to 198.18.2.0/24
    other: to 2001:db8::/32
}
counter lan_hosts { forward out via wan; split host destination }
POLICY
}
policy inbpf >"$work/inbpf.acct"
policy innft >"$work/innft.acct"
acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }
acctc_r apply --classes-in bpf --hosts-in bpf "$work/inbpf.acct" >"$work/out" 2>&1 ||
    fail "apply failed: $(cat "$work/out")"
acctc_r apply --classes-in nft --hosts-in nft "$work/innft.acct" >"$work/out" 2>&1 ||
    fail "apply (nft) failed: $(cat "$work/out")"
ip netns exec "$router" nft list table inet acctc_inbpf | grep -q 'classify_\|lan_hosts' &&
    fail "what BPF counts is in the nft table too"
pins() { (cd "$ACCTC_BPF_ROOT" && find . | sort); }
[[ $(pins | grep -c '/link$') == 3 ]] || fail "not three pinned links: $(pins)"

# UDP from each LAN address to each port and WAN address, sizes apart (python: exact sizes).
traffic() {
    ip netns exec "$lan" python3 - <<'PY'
import socket
for source, targets in (("198.18.1.10", ("198.18.2.2", "198.18.2.200")),
                        ("198.18.1.11", ("198.18.2.2", "198.18.2.200")),
                        ("2001:db8:1::10", ("2001:db8:2::2", "2001:db8:2::200"))):
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        for n, target in enumerate(targets):
            for port, size in ((80, 100), (53, 60), (9000, 30), (4000, 10)):
                for _ in range(n + 2):
                    s.sendto(b"x" * size, (target, port))
PY
}
# What policy `inbpf` as first applied counts of a capture's packets (wire_packets lines):
# "COUNTER PACKETS BYTES", the per-host counter's by source address.
partition() { # WIRE
    python3 - "$1" <<'PY'
import collections, ipaddress, sys
counts = collections.defaultdict(lambda: [0, 0])
near = [ipaddress.ip_network(n) for n in ("198.18.2.0/25", "2001:db8:2::/120")]
far = ipaddress.ip_network("198.18.2.128/25")
for line in open(sys.argv[1]):
    source, destination, length, fragment, protocol, port = line.split()
    if not source.startswith(("198.18.1.", "2001:db8:1:")):
        continue  # not forwarded out of the LAN
    address = ipaddress.ip_address(destination)
    names = [{"80": "ports_web", "53": "ports_dns"}.get(port, "ports_rest"), "lan_hosts"]
    if any(address in n for n in near):
        names.append("nets_near")
    elif address in far:
        names.append("nets_far")
    for name in names:
        key = name if name != "lan_hosts" else f"lan_hosts {source}"
        counts[key][0] += 1
        counts[key][1] += int(length)
for key, (packets, bytes_) in sorted(counts.items()):
    print(key, packets, bytes_)
PY
}
readings() { # POLICY -> "COUNTER[ HOST] PACKETS BYTES" lines, sorted
    acctc_r counters "$1" --json |
        jq -r '.counters[] | "\(.name)\(.labels.host // "" | if . == "" then "" else " " + . end) \(.packets) \(.bytes)"' |
        grep -v ' 0 0$' | sort
}
: >"$work/rounds"
round() { # WHEN: traffic, captured on the WAN host's side of the wire; BPF = nft = capture
    capture_start "$wan" eth0 "$work/wire.pcap"
    traffic
    capture_stop
    wire_packets "$work/wire.pcap" >"$work/wire"
    partition "$work/wire" >>"$work/rounds"
    awk '{ k = $1; if (NF == 4) k = k " " $2; p[k] += $(NF - 1); b[k] += $NF }
         END { for (k in p) print k, p[k], b[k] }' "$work/rounds" | sort >"$work/expected"
    readings inbpf >"$work/bpf"
    readings innft >"$work/nft"
    diff -u "$work/expected" "$work/bpf" >&2 || fail "BPF differs from the capture $1"
    diff -u "$work/expected" "$work/nft" >&2 || fail "nft differs from the capture $1"
}
round "after the first traffic"

# A reload nft refuses in its commit (nft resolves the cgroup's path while loading).
failed_reload() { # WHEN FILE ARGS...: fails, and leaves the pins and readings as they were
    pins >"$work/pins.before"
    readings inbpf >"$work/readings.before"
    acctc_r apply "${@:3}" "$2" >"$work/failed" 2>&1 && fail "the reload $1 went through"
    [[ -s $work/failed ]] || fail "no error for the reload $1"
    pins | diff -u "$work/pins.before" - >&2 || fail "the pins changed with the reload $1"
    readings inbpf | diff -u "$work/readings.before" - >&2 ||
        fail "the readings changed with the reload $1"
    round "after the reload $1, then more traffic"
}
{
    changed
    echo 'counter svc { owner cgroup "system.slice/acctc-no-such-unit.service"; out }'
} >"$work/refused.acct"
failed_reload "nft refused" "$work/refused.acct" --classes-in bpf --hosts-in bpf
grep -q "error: .*cgroup" "$work/failed" || fail "the error does not name the cgroup: $(cat "$work/failed")"

# A reload BPF fails in, after the per-host counter before the one it fails at was applied: a
# hash table of 2^32 - 1 hosts, more buckets than the kernel allows (E2BIG, nothing allocated).
{
    changed
    echo 'counter huge { forward in via wan; split host destination size 4294967295 }'
} >"$work/huge.acct"
failed_reload "BPF failed" "$work/huge.acct" --classes-in bpf --hosts-in bpf
grep -q "per-host counter huge: " "$work/failed" ||
    fail "the error does not name the counter: $(cat "$work/failed")"

# The changed policy itself goes through, and counts as it says from then on.
changed >"$work/changed.acct"
acctc_r apply --classes-in bpf --hosts-in bpf "$work/changed.acct" >"$work/out" 2>&1 ||
    fail "the changed policy failed: $(cat "$work/out")"
readings inbpf | grep -q '^ports_new ' && fail "a new class counted before any traffic"
[[ $(pins | grep -c '/link$') == 3 ]] || fail "not three pinned links after the change: $(pins)"
# One more round: port 9000 is `new` now (15 datagrams: 5 from each LAN address); the networks
# count at lan0's ingress, and no longer at wan0's egress (its old link, whose class `near` is
# the same counter, would count every IPv4 datagram twice): 40 more IPv4 datagrams in `near`,
# 20 IPv6 ones in `other`; and the per-host counter by destination.
readings inbpf >"$work/before_change"
traffic
readings inbpf >"$work/after_change"
delta() { # COUNTER: packets counted since before_change
    local before after
    before=$(awk -v c="$1" '$1 == c { print $(NF - 1) }' "$work/before_change")
    after=$(awk -v c="$1" '$1 == c { print $(NF - 1) }' "$work/after_change")
    echo $((${after:-0} - ${before:-0}))
}
[[ $(delta ports_new) == 15 ]] || fail "ports_new counted $(delta ports_new) of 15 datagrams to 9000"
[[ $(delta nets_near) == 40 ]] || fail "nets_near counted $(delta nets_near) of 40 IPv4 datagrams"
[[ $(delta nets_other) == 20 ]] || fail "nets_other counted $(delta nets_other) of 20 IPv6 datagrams"
grep -q '^lan_hosts 198.18.2.200 ' "$work/after_change" ||
    fail "the per-host counter does not count by destination: $(grep lan_hosts "$work/after_change")"
acctc_r remove inbpf >/dev/null 2>&1 || fail "remove failed"
[[ ! -e $ACCTC_BPF_ROOT/acctc ]] || fail "pins left after remove: $(pins)"
finish
