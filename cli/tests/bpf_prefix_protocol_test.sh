#!/usr/bin/env bash
# Per-host counters in BPF with a prefix (`split host source /24 /64`), with `split protocol`
# and with both directions in one counter (docs/runtime.md, "Per-host counters in BPF") with
# real packets: a router between a LAN host with six addresses in two IPv4 /24s and two IPv6
# /64s and a WAN peer. Each prefix's packets into and out of lan0, per protocol and direction
# on wan0 (`forward via wan; split host remote /24 /64; split protocol icmp, ipv6-icmp, udp;
# split direction`, UDP also behind IPv6 extension headers) and both directions together
# (`forward via wan; split host remote /24 /64`) equal ping's tally, the datagrams sent and a
# capture; the host label is the prefix as nft shows it (198.18.1.0, 2001:db8:1::). Moved into nft sets and back (--hosts-in nft, then bpf) every
# reading (counter, labels, packets, bytes) stays the same and counts on; applied with a
# shorter prefix, each new prefix starts with the sum of the old ones in it.
# Private mount namespace and bpffs (ACCTC_BPF_ROOT).
#   bpf_prefix_protocol_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
router_between_lan_and_wan bpfpp$$
ip -n "$router" addr add 198.18.1.1/24 dev lan0
ip -n "$router" addr add 198.18.3.1/24 dev lan0
ip -n "$router" addr add 2001:db8:1::1/64 dev lan0 nodad
ip -n "$router" addr add 2001:db8:3::1/64 dev lan0 nodad
ip -n "$router" addr add 198.18.2.1/24 dev wan0
ip -n "$router" addr add 2001:db8:2::1/64 dev wan0 nodad
hosts=(198.18.1.10 198.18.1.11 198.18.3.10 2001:db8:1::10 2001:db8:1::11 2001:db8:3::10)
for a in 198.18.1.10/24 198.18.1.11/24 198.18.3.10/24; do ip -n "$lan" addr add "$a" dev eth0; done
for a in 2001:db8:1::10/64 2001:db8:1::11/64 2001:db8:3::10/64; do
    ip -n "$lan" addr add "$a" dev eth0 nodad
done
ip -n "$wan" addr add 198.18.2.2/24 dev eth0
ip -n "$wan" addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n "$lan" route add default via 198.18.1.1
ip -n "$lan" -6 route add default via 2001:db8:1::1
ip -n "$wan" route add default via 198.18.2.1
ip -n "$wan" -6 route add default via 2001:db8:2::1
# Neighbours known up front: no solicitation besides the test's packets.
for a in "${hosts[@]}"; do
    ip -n "$router" neigh replace "$a" lladdr "$(mac "$lan" eth0)" dev lan0 nud permanent
done
for a in 198.18.1.1 2001:db8:1::1; do
    ip -n "$lan" neigh replace "$a" lladdr "$(mac "$router" lan0)" dev eth0 nud permanent
done
for a in 198.18.2.2 2001:db8:2::2; do
    ip -n "$router" neigh replace "$a" lladdr "$(mac "$wan" eth0)" dev wan0 nud permanent
done
for a in 198.18.2.1 2001:db8:2::1; do
    ip -n "$wan" neigh replace "$a" lladdr "$(mac "$router" wan0)" dev eth0 nud permanent
done
# A UDP sink on the WAN peer: no port-unreachable errors come back.
ip netns exec "$wan" socat -u UDP4-RECV:9 /dev/null &
sink4=$!
ip netns exec "$wan" socat -u UDP6-RECV:9,ipv6only=1 /dev/null &
sink6=$!
on_exit() { kill "$sink4" "$sink6" "${captures[@]}" 2>/dev/null; }

cat >"$work/bpfpp.acct" <<'POLICY'
policy bpfpp
interface lan = lan0
interface wan = wan0
counter sent { in via lan; split host source /24 /64 }
counter received { out via lan; split host destination /24 /64 }
counter wanproto { forward via wan; split host remote /24 /64; split protocol icmp, ipv6-icmp, udp; split direction }
counter wantotal { forward via wan; split host remote /24 /64 }
POLICY
acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }
acctc_r apply --hosts-in bpf "$work/bpfpp.acct" >"$work/apply" 2>&1 || fail "apply failed: $(cat "$work/apply")"
ip netns exec "$router" nft list table inet acctc_bpfpp | grep -q 'hosts' &&
    fail "the BPF counters are in the nft table too"
links=$(find "$ACCTC_BPF_ROOT/acctc" -name link | wc -l)
[[ $links == 9 ]] || fail "$links pinned links, not 9 (sent, received, 6 of wanproto, wantotal)"
# wantotal, both directions in one counter: a second program at wan0's egress, same maps.
[[ $(find "$ACCTC_BPF_ROOT/acctc" -name link_egress | wc -l) == 1 ]] || fail "wantotal has no egress link"

capture_start "$router" lan0 "$work/lan0.pcap"
capture_start "$router" wan0 "$work/wan0.pcap"
# Per LAN address: echo requests sent and replies received, UDP datagrams sent (100 bytes
# of payload: 128 bytes of IPv4, 148 of IPv6, and their bytes).
declare -A tx rx udp udp_bytes
ping_from() { # ADDRESS COUNT
    local target=198.18.2.2 t r
    [[ $1 == *:* ]] && target=2001:db8:2::2
    read -r t r < <(ip netns exec "$lan" ping -n -q -c "$2" -i 0.01 -I "$1" "$target" |
        awk '/transmitted/ { print $1, $4 }')
    tx[$1]=$((${tx[$1]:-0} + t)) rx[$1]=$((${rx[$1]:-0} + r))
}
udp_from() { # ADDRESS COUNT
    local target=UDP4-SENDTO:198.18.2.2:9 bind=$1 size=128
    [[ $1 == *:* ]] && target=UDP6-SENDTO:[2001:db8:2::2]:9 bind=[$1] size=148
    for ((i = 0; i < $2; i++)); do
        printf '%100s' x | ip netns exec "$lan" socat -u - "$target,bind=$bind"
    done
    udp[$1]=$((${udp[$1]:-0} + $2))
    udp_bytes[$1]=$((${udp_bytes[$1]:-0} + $2 * size))
}
# IPv6 datagrams behind extension headers (hop-by-hop and destination options, 8 bytes each):
# nft's `meta l4proto` and the program see UDP after them. 100 bytes of payload: 164 bytes.
udp_options_from() { # ADDRESS COUNT
    ip netns exec "$lan" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
pad = bytes([0, 0, 1, 4, 0, 0, 0, 0])  # one PadN option: an 8-byte header
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, pad)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, pad)
for _ in range(int(sys.argv[2])):
    s.sendto(b"x" * 100, ("2001:db8:2::2", 9))
' "$1" "$2" || fail "python3 could not send from $1"
    udp[$1]=$((${udp[$1]:-0} + $2))
    udp_bytes[$1]=$((${udp_bytes[$1]:-0} + $2 * 164))
}
traffic() {
    ping_from 198.18.1.10 3; ping_from 198.18.1.11 2; ping_from 198.18.3.10 4
    ping_from 2001:db8:1::10 3; ping_from 2001:db8:1::11 2; ping_from 2001:db8:3::10 2
    udp_from 198.18.1.10 2; udp_from 198.18.3.10 3; udp_from 2001:db8:1::10 1
    udp_from 2001:db8:3::10 2; udp_options_from 2001:db8:3::10 2
}
traffic
capture_stop

# A prefix's tallies: PREFIX KIND (tx rx udp) -> the sum over its addresses.
prefix_of() { [[ $1 == *:* ]] && echo "${1%::*}::" || echo "${1%.*}.0"; }
sum() {
    local -n of=$2
    local total=0 a
    for a in "${hosts[@]}"; do [[ $(prefix_of "$a") == "$1" ]] && total=$((total + ${of[$a]:-0})); done
    echo "$total"
}
for a in "${hosts[@]}"; do
    [[ ${tx[$a]} == "${rx[$a]}" ]] || fail "pings of $a lost: ${tx[$a]} sent, ${rx[$a]} answered"
done
# The captures agree with the tallies (per prefix, both links).
captured() { tcpdump -n -r "$work/$1.pcap" "$2" 2>/dev/null | wc -l; }
# UDP datagrams, also behind IPv6 extension headers (which a filter's `udp` does not see past).
captured_udp() { tcpdump -n -r "$work/$1.pcap" "$2" 2>/dev/null | grep -c 'UDP, length'; }
for p in 198.18.1.0 198.18.3.0; do
    net="net $p/24"
    [[ $(captured lan0 "src $net and icmp") == "$(sum "$p" tx)" &&
        $(captured lan0 "dst $net and icmp") == "$(sum "$p" rx)" &&
        $(captured_udp wan0 "src $net") == "$(sum "$p" udp)" ]] ||
        fail "the capture of $p differs from the tally: $(captured lan0 "src $net and icmp6") $(sum "$p" tx) $(captured wan0 "dst $net and icmp6") $(sum "$p" rx) $(captured wan0 "src $net and ip6 protochain udp") $(sum "$p" udp)"
done
for p in 2001:db8:1:: 2001:db8:3::; do
    net="net $p/64"
    [[ $(captured lan0 "src $net and icmp6") == "$(sum "$p" tx)" &&
        $(captured wan0 "dst $net and icmp6") == "$(sum "$p" rx)" &&
        $(captured_udp wan0 "src $net") == "$(sum "$p" udp)" ]] ||
        fail "the capture of $p differs from the tally"
done

# Every reading of a host of the test's prefixes as "counter labels packets bytes", sorted
# (not the link-local addresses' neighbour discovery and MLD, nor the overflow counters).
readings() {
    acctc_r counters bpfpp --json |
        jq -r '.counters[] | select(.labels.host // "" | test("^(198\\.18\\.|2001:db8:)")) |
               "\(.counter) \(.labels | to_entries | map("\(.key)=\(.value)") | join(","))" +
               " \(.packets) \(.bytes)"' | sort
}
expected() {
    local p v ping
    for p in 198.18.1.0 198.18.3.0 2001:db8:1:: 2001:db8:3::; do
        v=4 ping=84
        [[ $p == *:* ]] && v=6 ping=104
        local t r u ub icmp=icmp
        t=$(sum "$p" tx) r=$(sum "$p" rx) u=$(sum "$p" udp) ub=$(sum "$p" udp_bytes)
        [[ $v == 6 ]] && icmp=icmpv6
        echo "sent host=$p $((t + u)) $((t * ping + ub))"
        echo "received host=$p $r $((r * ping))"
        echo "wanproto direction=out,host=$p,protocol=$icmp $t $((t * ping))"
        echo "wanproto direction=in,host=$p,protocol=$icmp $r $((r * ping))"
        ((u > 0)) && echo "wanproto direction=out,host=$p,protocol=udp $u $ub"
        echo "wantotal host=$p $((t + r + u)) $(((t + r) * ping + ub))"
    done | sort
}
check() { # WHEN
    readings >"$work/got"
    expected >"$work/want"
    diff -u "$work/want" "$work/got" >"$work/diff" || fail "$1: readings differ from the tally: $(cat "$work/diff")"
}
check "in BPF"
acctc_r counters bpfpp --json | jq -e '[.counters[] | select(.labels.host == "overflow")] |
    length == 9 and all(.packets == 0)' >/dev/null || fail "not 9 empty overflow counters"

# Into nft sets: every reading the same, the elements the prefixes, counting on.
acctc_r apply --hosts-in nft "$work/bpfpp.acct" >"$work/to_nft" 2>&1 || fail "apply --hosts-in nft failed"
grep -q "counter sent moved from BPF to nft sets" "$work/to_nft" || fail "no note of the move: $(cat "$work/to_nft")"
grep -q "counter wanproto_udp_out moved from BPF to nft sets" "$work/to_nft" || fail "no note of wanproto_udp_out's move: $(cat "$work/to_nft")"
[[ -z $(find "$ACCTC_BPF_ROOT" -name 'link*') ]] || fail "pins left after moving into nft sets"
check "moved into nft sets"
elements=$(ip netns exec "$router" nft -j list table inet acctc_bpfpp |
    jq -r '[.nftables[] | .set? // empty | select(.name | startswith("sent_hosts")) | (.elem // [])[] |
         .elem.val | select(test("^(198\\.18\\.|2001:db8:)"))] | sort | join(" ")')
[[ $elements == "198.18.1.0 198.18.3.0 2001:db8:1:: 2001:db8:3::" ]] ||
    fail "sent's elements in nft are '$elements', not the four prefixes"
traffic
check "in nft sets, after more packets"

acctc_r apply --hosts-in bpf "$work/bpfpp.acct" >"$work/to_bpf" 2>&1 || fail "apply --hosts-in bpf failed"
grep -q "counter wanproto_icmp_in moved from nft sets to BPF" "$work/to_bpf" || fail "no note of the move back: $(cat "$work/to_bpf")"
check "moved back into BPF"
traffic
check "in BPF again, after more packets"

# A shorter prefix is another layout: new maps that start with the old ones' counts, the
# prefixes of each /16 and /32 summed.
sent_of() { # HOST -> "packets bytes"
    acctc_r counters bpfpp sent --json |
        jq -r --arg h "$1" '[.counters[] | select(.labels.host == $h) | "\(.packets) \(.bytes)"] | add // "0 0"'
}
read -r p1 b1 < <(sent_of 198.18.1.0)
read -r p3 b3 < <(sent_of 198.18.3.0)
read -r q1 c1 < <(sent_of 2001:db8:1::)
read -r q3 c3 < <(sent_of 2001:db8:3::)
sed -i 's|counter sent { in via lan; split host source /24 /64 }|counter sent { in via lan; split host source /16 /32 }|' "$work/bpfpp.acct"
acctc_r apply --hosts-in bpf "$work/bpfpp.acct" >/dev/null 2>&1 || fail "apply of /16 /32 failed"
[[ $(sent_of 198.18.0.0) == "$((p1 + p3)) $((b1 + b3))" ]] ||
    fail "sent host=198.18.0.0 is $(sent_of 198.18.0.0), not the /24s' sum $((p1 + p3)) $((b1 + b3))"
[[ $(sent_of 2001:db8::) == "$((q1 + q3)) $((c1 + c3))" ]] ||
    fail "sent host=2001:db8:: is $(sent_of 2001:db8::), not the /64s' sum"

acctc_r remove bpfpp >/dev/null || fail "remove failed"
[[ -z $(find "$ACCTC_BPF_ROOT" -mindepth 1 ! -name '*.debug') ]] || fail "remove left pins"
echo "ok: BPF per-prefix and per-protocol counts = ping = datagrams = capture (IPv4, IPv6), labels as nft's, carried into nft sets and back and into a shorter prefix"
