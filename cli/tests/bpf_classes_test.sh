#!/usr/bin/env bash
# Classifications counted in BPF (`acctc apply --classes-in bpf`, docs/runtime.md "Classes in
# BPF") with real packets: a router forwards between a LAN host and a WAN host. The same
# classifications are applied twice, as policy `inbpf` (a TCX program on wan0's egress and one on
# its ingress) and as policy `innft` (nft rules), and counted at once. TCP and UDP to classes of
# ports and port ranges (first match: a later class's ports an earlier one takes count for the
# earlier), a class all of whose ports earlier ones take, pings and ports no class owns
# (`otherwise`), IPv4 and IPv6, and datagrams of 3,000 bytes whose fragments past the first carry
# no ports (`otherwise` too, as for nft). Every class equals what a capture on the WAN host's
# side of the wire says, and the nft policy; a reload that moves ports between classes keeps
# every class's count; moving the classifications into nft rules and back carries every count;
# resets under a flood lose nothing; a classification of 5,000 ports moves into nft's counting sets
# and back with its counts; remove leaves no pin. Private mount namespace and bpffs
# (ACCTC_BPF_ROOT).
#   bpf_classes_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
router_between_lan_and_wan bpfc$$
router_addresses 198.18.1.10 2001:db8:1::10

# The classes, as the capture check below partitions them too (first match). `down` has no
# `otherwise`: at wan0's ingress the program also sees what the WAN host sends the router itself,
# which `forward in` does not count (docs/runtime.md).
policy() { # NAME VERSION
    local high='high: udp dport 7000..7999'
    [[ $2 == 2 ]] && high='high: udp dport 7000..7499
    upper: udp dport 7500..7999'
    cat <<POLICY
policy $1
interface wan = wan0
classify up forward out via wan {
    web: tcp dport 80, 443
    dns: udp dport 53
    $high
    shadow: udp dport 53, 7000
    both: tcp, udp dport 8000..8100
    otherwise: rest
}
classify down forward in via wan {
    echo: udp dport 9000
    pair: tcp, udp dport 9001..9002
}
POLICY
}
policy inbpf 1 >"$work/inbpf.acct"
policy innft 1 >"$work/innft.acct"
acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }
acctc_r apply --classes-in bpf "$work/inbpf.acct" >"$work/out" 2>&1 || fail "apply failed: $(cat "$work/out")"
acctc_r apply --classes-in nft "$work/innft.acct" >/dev/null 2>&1 || fail "apply (nft) failed"
ip netns exec "$router" nft list table inet acctc_inbpf | grep -q 'classify_' &&
    fail "the classifications are in the nft table too"
[[ $(find "$ACCTC_BPF_ROOT/acctc" -name link | wc -l) == 2 ]] || fail "not two pinned links"

# Datagrams and connection attempts from each side (python: exact sizes, IPv4 and IPv6).
send() { # NAMESPACE TARGET_V4 TARGET_V6 "PROTO PORT SIZE ..."
    ip netns exec "$1" python3 - "$2" "$3" "$4" <<'PY'
import socket, sys
v4, v6, plan = sys.argv[1], sys.argv[2], sys.argv[3].split()
for target, family in ((v4, socket.AF_INET), (v6, socket.AF_INET6)):
    for i in range(0, len(plan), 3):
        proto, port, size = plan[i], int(plan[i + 1]), int(plan[i + 2])
        if proto == "udp":
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.sendto(b"x" * size, (target, port))
        else:  # a SYN to a closed port: the RST comes back
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                try:
                    s.connect((target, port))
                except OSError:
                    pass
PY
}
traffic() {
    send "$lan" 198.18.2.2 2001:db8:2::2 "udp 53 10 udp 53 100 udp 7000 1 udp 7499 20 udp 7500 30
        udp 7999 500 udp 8050 20 tcp 8050 0 udp 9999 0 udp 53 3000 tcp 80 0 tcp 443 0 tcp 22 0"
    send "$wan" 198.18.1.10 2001:db8:1::10 "udp 9000 5 udp 9000 50 udp 9001 7 tcp 9002 0 udp 9003 9"
    ip netns exec "$lan" ping -n -q -c 2 -i 0.01 198.18.2.2 >/dev/null
    ip netns exec "$lan" ping -n -q -c 2 -i 0.01 2001:db8:2::2 >/dev/null
}

on_exit() { # the captures or the flood, if the test ends while one runs
    ((${#captures[@]} == 0)) || kill "${captures[@]}" 2>/dev/null
    [[ -z ${flood:-} ]] || kill "$flood" 2>/dev/null
}
capture_start "$wan" eth0 "$work/wire.pcap"
traffic
capture_stop
wire_packets "$work/wire.pcap" >"$work/wire"

# What the capture says each class counted: "COUNTER PACKETS BYTES" lines (IP length, as nft).
python3 - "$work/wire" >"$work/expected" <<'PY'
import sys
up = [("up_web", {(6, 80), (6, 443)}), ("up_dns", {(17, 53)}),
      ("up_high", {(17, p) for p in range(7000, 8000)}), ("up_shadow", {(17, 53), (17, 7000)}),
      ("up_both", {(x, p) for x in (6, 17) for p in range(8000, 8101)})]
down = [("down_echo", {(17, 9000)}), ("down_pair", {(x, p) for x in (6, 17) for p in (9001, 9002)})]
lan = {"198.18.1.10", "2001:db8:1::10"}
counts = {}
for line in open(sys.argv[1]):
    src, dst, length, _, proto, port = line.split()
    if src not in lan and dst not in lan:
        continue  # not forwarded between the LAN and the WAN host
    classes, rest = (up, "up_rest") if src in lan else (down, None)
    name = rest
    if port != "-":  # TCP or UDP, not a fragment past the first
        name = next((c for c, keys in classes if (int(proto), int(port)) in keys), rest)
    if name:
        p, b = counts.get(name, (0, 0))
        counts[name] = (p + 1, b + int(length))
for name in [c for c, _ in up] + ["up_rest"] + [c for c, _ in down]:
    p, b = counts.get(name, (0, 0))
    print(name, p, b)
PY
readings() { # POLICY -> "COUNTER PACKETS BYTES" lines, sorted
    acctc_r counters "$1" --json | jq -r '.counters[] | "\(.name) \(.packets) \(.bytes)"' | sort
}
readings inbpf >"$work/bpf"
readings innft >"$work/nft"
sort "$work/expected" >"$work/expected.sorted"
diff -u "$work/expected.sorted" "$work/bpf" >&2 || fail "BPF's classes differ from the capture"
diff -u "$work/expected.sorted" "$work/nft" >&2 || fail "nft's classes differ from the capture"
grep -q '^up_shadow 0 0$' "$work/bpf" || fail "the covered class counted"
awk '$2 == 0 && $1 != "up_shadow" { print "FAIL: class " $1 " saw nothing" }' "$work/bpf" | grep . >&2 &&
    fail "a class the traffic should reach counted nothing"
same_as_nft() { # WHEN
    readings inbpf >"$work/bpf"
    readings innft >"$work/nft"
    diff -u "$work/nft" "$work/bpf" >&2 || fail "BPF and nft differ $1"
}
same_as_nft "after the first traffic"

# A reload that moves ports between classes keeps every class's count.
policy inbpf 2 >"$work/inbpf.acct"
policy innft 2 >"$work/innft.acct"
readings inbpf >"$work/before"
acctc_r apply --classes-in bpf "$work/inbpf.acct" >/dev/null 2>&1 || fail "reload failed"
acctc_r apply --classes-in nft "$work/innft.acct" >/dev/null 2>&1 || fail "reload (nft) failed"
readings inbpf >"$work/after"
{ cat "$work/before"; echo "up_upper 0 0"; } | sort >"$work/kept"
diff -u "$work/kept" "$work/after" >&2 || fail "the reload changed a count"
traffic
same_as_nft "after a reload that moved ports"

# Into nft rules and back, every class with its counts.
acctc_r apply --classes-in nft "$work/inbpf.acct" >"$work/to_nft" 2>&1 || fail "apply --classes-in nft failed"
grep -q "classification up moved from BPF to nft rules" "$work/to_nft" ||
    fail "no note of the move: $(cat "$work/to_nft")"
[[ -z $(find "$ACCTC_BPF_ROOT" -name link) ]] || fail "pins left after moving into nft rules"
same_as_nft "moved into nft rules"
traffic
same_as_nft "in nft rules, after more traffic"
acctc_r apply --classes-in auto "$work/inbpf.acct" >"$work/to_bpf" 2>&1 || fail "apply (auto) failed"
grep -q "classification up moved from nft rules to BPF" "$work/to_bpf" ||
    fail "no note of the move back: $(cat "$work/to_bpf")"
ip netns exec "$router" nft list table inet acctc_inbpf | grep -q 'classify_' && fail "rules left in nft"
same_as_nft "moved back into BPF"
traffic
same_as_nft "in BPF again, after more traffic"

# Resets under a flood: the resets' reads add up to every datagram sent, none lost or twice.
acctc_r counters inbpf --reset >/dev/null
udp_flood "$lan" 198.18.2.2 53
dns() { acctc_r counters inbpf --reset --json | jq '[.counters[] | select(.name == "up_dns") | .packets] | add // 0'; }
resets_during "$flood" dns
flood=
[[ $total == 3000 ]] || fail "resets under traffic read $total datagrams of 3000 sent"
((resets > 2)) || fail "only $resets resets during the flood"

# A large classification (5,000 ports: nft counts it by elements of counting sets) moves into
# nft rules and back with every class's count.
{
    printf 'policy big\ninterface wan = wan0\nclassify many forward out via wan {\n'
    for ((i = 0; i < 5000; i++)); do printf '    p%d: udp dport %d\n' "$i" $((20000 + i)); done
    printf '    otherwise: rest\n}\n'
} >"$work/big.acct"
big() { # PORT...: a datagram of 10 bytes to each, IPv4
    ip netns exec "$lan" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in sys.argv[1:]:
    s.sendto(b"x" * 10, ("198.18.2.2", int(port)))
' "$@"
}
big_counts() { acctc_r counters big --json | jq -r '.counters[] | select(.packets > 0) | "\(.name) \(.packets) \(.bytes)"' | sort; }
acctc_r apply --classes-in bpf "$work/big.acct" >/dev/null 2>&1 || fail "apply of 5,000 classes failed"
big 20000 20001 20001 24999
sleep 0.2
printf '%s\n' "many_p0 1 38" "many_p1 2 76" "many_p4999 1 38" | sort >"$work/big_expected"
big_counts | grep -v many_rest >"$work/big_bpf"
diff -u "$work/big_expected" "$work/big_bpf" >&2 || fail "5,000 classes in BPF miscount"
acctc_r apply --classes-in nft "$work/big.acct" >"$work/big_to_nft" 2>&1 || fail "big into nft failed"
ip netns exec "$router" nft list table inet acctc_big | grep -q 'many_p1' || fail "big is not in nft"
big_counts | grep -v many_rest >"$work/big_nft"
diff -u "$work/big_expected" "$work/big_nft" >&2 || fail "5,000 classes moved into nft lost counts"
big 20001 24999
printf '%s\n' "many_p0 1 38" "many_p1 3 114" "many_p4999 2 76" | sort >"$work/big_expected"
big_counts | grep -v many_rest >"$work/big_nft"
diff -u "$work/big_expected" "$work/big_nft" >&2 || fail "5,000 classes in nft miscount after the move"
acctc_r apply --classes-in bpf "$work/big.acct" >/dev/null 2>&1 || fail "big back into BPF failed"
big_counts | grep -v many_rest >"$work/big_bpf"
diff -u "$work/big_expected" "$work/big_bpf" >&2 || fail "5,000 classes moved back into BPF lost counts"
acctc_r remove big >/dev/null 2>&1 || fail "remove big failed"

acctc_r remove inbpf >/dev/null 2>&1 || fail "remove failed"
[[ ! -e $ACCTC_BPF_ROOT/acctc ]] || fail "pins left after remove: $(find "$ACCTC_BPF_ROOT/acctc")"
acctc_r remove innft >/dev/null 2>&1 || fail "remove (nft) failed"
finish
