# Sourced by the kernel tests of per-host counters in BPF, with the test's arguments (ACCTC
# first): runs the test again in a private mount namespace, where its own bpffs is mounted at
# $ACCTC_BPF_ROOT (under $work) and nothing is pinned in the host's /sys/fs/bpf; then
# netns_test_lib.sh (acctc, work, namespaces, the cleanup), where fail ends the test.
if [[ -z ${ACCTC_BPF_TEST_PRIVATE:-} ]]; then
    ACCTC_BPF_TEST_PRIVATE=1 exec unshare -m --propagation private "$0" "$@"
fi
source "$(dirname "${BASH_SOURCE[0]}")/netns_test_lib.sh" "$@"
fail_fast=1
export ACCTC_BPF_ROOT=$work/bpffs ACCTC_STATE_DIR=$work/state
mkdir -p "$ACCTC_BPF_ROOT"
mount -t bpf -o mode=0700 bpf "$ACCTC_BPF_ROOT" # acctc mounts none itself
mounts+=("$ACCTC_BPF_ROOT")
# A router between two namespaces: $router's lan0 and wan0 are veths to eth0 of $lan and $wan,
# every link up, forwarding on, no duplicate address detection (addresses are usable at once).
# The test adds the addresses and routes. Sets router, lan and wan.
router_between_lan_and_wan() { # TAG
    router=$1-r lan=$1-l wan=$1-w
    add_namespace "$router"
    add_namespace "$lan"
    add_namespace "$wan"
    ip -n "$router" link add lan0 type veth peer name eth0 netns "$lan"
    ip -n "$router" link add wan0 type veth peer name eth0 netns "$wan"
    ip -n "$router" link set lan0 up
    ip -n "$router" link set wan0 up
    ip -n "$lan" link set eth0 up
    ip -n "$wan" link set eth0 up
    ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}
mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; } # NAMESPACE DEVICE
# Adds ADDRESS... to HOST's eth0 (in a /24 or /64), each known to the router on DEVICE up front
# (the link to HOST): the LAN host's in router_addresses, or e.g. more WAN host addresses in
# 198.18.2.0/24 and 2001:db8:2::/64, `host_addresses "$wan" wan0 ...`.
host_addresses() { # HOST DEVICE ADDRESS...
    local a host_mac
    host_mac=$(mac "$1" eth0)
    for a in "${@:3}"; do
        if [[ $a == *:* ]]; then
            ip -n "$1" addr add "$a/64" dev eth0 nodad
        else
            ip -n "$1" addr add "$a/24" dev eth0
        fi
        ip -n "$router" neigh replace "$a" lladdr "$host_mac" dev "$2" nud permanent
    done
}
# The addresses most of these tests use, after router_between_lan_and_wan: the router 198.18.1.1
# and 2001:db8:1::1 on lan0, 198.18.2.1 and 2001:db8:2::1 on wan0; the WAN host 198.18.2.2 and
# 2001:db8:2::2; the LAN host each address given (of 198.18.1.0/24 or 2001:db8:1::/64); default
# routes through the router; and every neighbour known up front, so that no solicitation crosses
# a link besides the test's own packets.
router_addresses() { # LAN_ADDRESS...
    ip -n "$router" addr add 198.18.1.1/24 dev lan0
    ip -n "$router" addr add 2001:db8:1::1/64 dev lan0 nodad
    ip -n "$router" addr add 198.18.2.1/24 dev wan0
    ip -n "$router" addr add 2001:db8:2::1/64 dev wan0 nodad
    ip -n "$wan" addr add 198.18.2.2/24 dev eth0
    ip -n "$wan" addr add 2001:db8:2::2/64 dev eth0 nodad
    host_addresses "$lan" lan0 "$@"
    local a router_lan_mac router_wan_mac wan_mac
    wan_mac=$(mac "$wan" eth0)
    router_lan_mac=$(mac "$router" lan0) router_wan_mac=$(mac "$router" wan0)
    ip -n "$lan" route add default via 198.18.1.1
    ip -n "$lan" -6 route add default via 2001:db8:1::1
    ip -n "$wan" route add default via 198.18.2.1
    ip -n "$wan" -6 route add default via 2001:db8:2::1
    for a in 198.18.1.1 2001:db8:1::1; do
        ip -n "$lan" neigh replace "$a" lladdr "$router_lan_mac" dev eth0 nud permanent
    done
    for a in 198.18.2.1 2001:db8:2::1; do
        ip -n "$wan" neigh replace "$a" lladdr "$router_wan_mac" dev eth0 nud permanent
    done
    for a in 198.18.2.2 2001:db8:2::2; do
        ip -n "$router" neigh replace "$a" lladdr "$wan_mac" dev wan0 nud permanent
    done
}
# 3,000 UDP datagrams of one byte from NAMESPACE to DESTINATION:PORT (IPv4), from SOURCE if
# given, in the background, 100 at a time 20 ms apart: sets flood (the process).
udp_flood() { # NAMESPACE DESTINATION PORT [SOURCE]
    ip netns exec "$1" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 3:
    s.bind((sys.argv[3], 0))
for i in range(3000):
    s.sendto(b"f", (sys.argv[1], int(sys.argv[2])))
    if i % 100 == 0:
        time.sleep(0.02)
' "${@:2}" &
    flood=$!
}
# Reads COMMAND (what a `counters --reset` read of the flooded class) again and again while
# PROCESS (the flood) runs, and once after it: sets total (the reads' sum) and resets (how many
# reads while it ran).
resets_during() { # PROCESS COMMAND...
    total=0 resets=0
    while kill -0 "$1" 2>/dev/null; do
        total=$((total + $("${@:2}"))) resets=$((resets + 1))
    done
    wait "$1"
    sleep 0.5
    total=$((total + $("${@:2}")))
}
# A capture of IP packets on a device, from capture_start until capture_stop (a second after,
# for the last replies to arrive); several may run at once. Adds each tcpdump to captures (the
# test's on_exit kills them if the test ends early; capture_stop empties it).
captures=()
capture_start() { # NAMESPACE DEVICE FILE
    ip netns exec "$1" tcpdump -n -i "$2" -w "$3" ip or ip6 2>"$3.log" &
    captures+=($!)
    # Not before it says it listens (its filter in place): a fixed pause lost packets when loaded.
    local tries
    for ((tries = 0; tries < 100; tries++)); do
        grep -q "listening on" "$3.log" 2>/dev/null && return
        sleep 0.05
    done
    fail "tcpdump does not listen on $2: $(cat "$3.log")"
}
capture_stop() {
    sleep 1
    kill "${captures[@]}"
    wait "${captures[@]}" 2>/dev/null
    captures=()
}
# The IP packets of a capture (Ethernet), one line each:
# "SOURCE DESTINATION LENGTH FRAGMENT PROTOCOL PORT", LENGTH what nft counts (IPv4's total length,
# IPv6's payload length and its 40-byte header), FRAGMENT `-`, `first` or `rest` (a fragment past
# the first), PROTOCOL the transport's number (IPv6: after a fragment header), PORT TCP's or UDP's
# destination port, `-` for other protocols and for fragments past the first (they carry none).
wire_packets() { # PCAP
    python3 - "$1" <<'PY'
import ipaddress, struct, sys
data = open(sys.argv[1], "rb").read()
endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
at = 24
while at < len(data):
    caplen = struct.unpack(endian + "I", data[at + 8:at + 12])[0]
    frame = data[at + 16:at + 16 + caplen]
    at += 16 + caplen
    kind, ip = struct.unpack(">H", frame[12:14])[0], frame[14:]
    if kind == 0x0800:
        length, flags = struct.unpack(">H", ip[2:4])[0], struct.unpack(">H", ip[6:8])[0]
        proto, src, dst, l4 = ip[9], ip[12:16], ip[16:20], ip[(ip[0] & 15) * 4:]
        offset, more = flags & 0x1FFF, flags & 0x2000
    elif kind == 0x86DD:
        length, proto = struct.unpack(">H", ip[4:6])[0] + 40, ip[6]
        src, dst, l4 = ip[8:24], ip[24:40], ip[40:]
        offset = more = 0
        if proto == 44:  # a fragment header right after the fixed one (as Linux sends them)
            flags = struct.unpack(">H", l4[2:4])[0]
            proto, offset, more, l4 = l4[0], flags & 0xFFF8, flags & 1, l4[8:]
    else:
        continue
    fragment = "rest" if offset else "first" if more else "-"
    port = struct.unpack(">H", l4[2:4])[0] if proto in (6, 17) and not offset else "-"
    print(ipaddress.ip_address(src), ipaddress.ip_address(dst), length, fragment, proto, port)
PY
}
