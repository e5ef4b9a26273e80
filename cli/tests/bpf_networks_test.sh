#!/usr/bin/env bash
# Classifications of networks counted in BPF (`acctc apply --classes-in bpf`, docs/runtime.md
# "Classes in BPF": the program looks the packet's source or destination address up among the
# prefixes of the compiler's first-match partition) with real packets: a
# router forwards between a LAN host and a WAN host, each with several IPv4 and IPv6 addresses.
# The same four classifications on wan0 (out and in, keyed by source and by destination) are
# applied twice, as policy `inbpf` (TCX programs) and as policy `innft` (nft rules), and counted
# at once. Prefixes overlapping in both orders (a later /28 inside an earlier /24 counts nothing,
# an earlier /28 inside a later /24 keeps its addresses), ranges of addresses (the language has
# no `A-B`: written as their prefixes), single addresses, classes of both families, `otherwise`,
# classes no packet reaches, UDP, TCP, pings, datagrams of 3,000 bytes (every fragment carries
# the addresses: all count in the address's class); `up` puts 5 IPv4 prefix lengths in (the
# program's trie), the others at most 4 per family (its hash table looked up per length). Every
# class equals the nft policy and what a capture on the WAN host's side of the wire says,
# partitioned here by first match; a reload that moves addresses between classes, a move into
# nft rules and back keep every count; a move into nft rules the kernel refuses leaves every
# classification counting in BPF with its counts; resets under a flood lose nothing; remove
# leaves no pin. With a nat
# chain (masquerade on wan0), a classification of source addresses at wan0's egress is refused
# by `bpf` and counted in nft rules by `auto`; one of source addresses at the ingress and one of
# destination addresses at the egress still count in BPF. Private mount namespace and bpffs
# (ACCTC_BPF_ROOT).
#   bpf_networks_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
router_between_lan_and_wan bpfn$$
lan4=(198.18.1.5 198.18.1.21 198.18.1.35 198.18.1.70 198.18.1.200)
lan6=(2001:db8:1::5 2001:db8:1::35 2001:db8:1::70 2001:db8:1::1:9)
wan4=(198.18.2.2 198.18.2.18 198.18.2.40 198.18.2.130)
wan6=(2001:db8:2::2 2001:db8:2::18 2001:db8:2::1:7)
router_addresses "${lan4[@]}" "${lan6[@]}"
host_addresses "$wan" wan0 "${wan4[@]:1}" "${wan6[@]:1}"
on_exit() { # the captures or the flood, if the test ends while one runs
    ((${#captures[@]} == 0)) || kill "${captures[@]}" 2>/dev/null
    [[ -z ${flood:-} ]] || kill "$flood" 2>/dev/null
}

# The classifications (the capture check below reads them from the policy file). Where each
# address of the hosts lands, version 1:
#   up (source, leaving): .5 single, .21 rng, .35 inner (the /28 before lan's /25), .70 lan
#     (shadow's /28 comes after lan's /25: shadow counts nothing), .200 rest; ::35 inner, ::5 and
#     ::70 lan, ::1:9 rest; idle: nothing.
#   down (source, arriving; no `otherwise`: at the ingress the program also sees packets to the
#     router itself, which `forward` does not count): .18 near (the /28 before wan's /24), .2,
#     .40 and .130 wan (hidden's /28 comes after: nothing), ::18 near, ::2 and ::1:7 v6;
#     unused: nothing.
#   dest (destination, leaving): .18 and ::18 far, the other IPv4 addresses net, IPv6 other.
#   back (destination, arriving): .5, .21, .35 and every IPv6 address low, .70 and .200 high.
# Version 2 moves addresses: .5 and ::1:9 to rng, .21 to the new class added, .200 and ::5 to
# single; .130, ::2 and ::1:7 to near; ::2 to far; .35 to high.
policy() { # NAME VERSION
    echo "policy $1"
    echo "interface wan = wan0"
    if [[ $2 == 1 ]]; then
        cat <<'POLICY'
classify up forward out via wan {
    rng: from 198.18.1.20/30
    inner: from 198.18.1.32/28, 2001:db8:1::30/124
    single: from 198.18.1.5
    lan: from 198.18.1.0/25, 2001:db8:1::/112
    shadow: from 198.18.1.64/28, 2001:db8:1::70/127
    idle: from 198.18.1.128/26
    otherwise: rest
}
classify down forward in via wan {
    near: from 198.18.2.16/28, 2001:db8:2::10/124
    wan: from 198.18.2.0/24
    hidden: from 198.18.2.32/28
    v6: from 2001:db8:2::/64
    unused: from 198.18.3.0/24, 2001:db8:3::/64
}
classify dest forward out via wan {
    far: to 198.18.2.18, 2001:db8:2::18
    net: to 198.18.2.0/24
    otherwise: other
}
classify back forward in via wan {
    low: to 198.18.1.0/26, 2001:db8:1::/64
    high: to 198.18.1.64/26, 198.18.1.128/25
}
POLICY
    else
        cat <<'POLICY'
classify up forward out via wan {
    rng: from 198.18.1.3, 198.18.1.4/31, 198.18.1.6, 2001:db8:1::1:0/120
    inner: from 198.18.1.32/28, 2001:db8:1::30/124
    single: from 198.18.1.200, 2001:db8:1::5
    added: from 198.18.1.16/28
    lan: from 198.18.1.0/25, 2001:db8:1::/112
    shadow: from 198.18.1.64/28, 2001:db8:1::70/127
    idle: from 198.18.1.128/26
    otherwise: rest
}
classify down forward in via wan {
    near: from 198.18.2.16/28, 198.18.2.128/25, 2001:db8:2::/64
    wan: from 198.18.2.0/24
    hidden: from 198.18.2.32/28
    v6: from 2001:db8:2::/64
    unused: from 198.18.3.0/24, 2001:db8:3::/64
}
classify dest forward out via wan {
    far: to 198.18.2.18, 2001:db8:2::2, 2001:db8:2::18
    net: to 198.18.2.0/24
    otherwise: other
}
classify back forward in via wan {
    low: to 198.18.1.0/27, 2001:db8:1::/64
    high: to 198.18.1.32/27, 198.18.1.64/26, 198.18.1.128/25
}
POLICY
    fi
}
acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }
apply_both() { # VERSION
    policy inbpf "$1" >"$work/inbpf.acct"
    policy innft "$1" >"$work/innft.acct"
    acctc_r apply --classes-in bpf "$work/inbpf.acct" >"$work/out" 2>&1 ||
        fail "apply of version $1 failed: $(cat "$work/out")"
    acctc_r apply --classes-in nft "$work/innft.acct" >"$work/out" 2>&1 ||
        fail "apply (nft) of version $1 failed: $(cat "$work/out")"
}
links() { find "$ACCTC_BPF_ROOT" -name link | wc -l; }
apply_both 1
ip netns exec "$router" nft list table inet acctc_inbpf | grep -q 'classify_' &&
    fail "the classifications are in the nft table too"
[[ $(links) == 4 ]] || fail "not four pinned links: $(find "$ACCTC_BPF_ROOT")"

# From every address of each host to every address of the other of its family (python, bound to
# the source): a datagram (sizes differ), a connection attempt (SYN, the RST back), and from the
# first address of the other side a datagram of 3,000 bytes (fragments); the closed UDP ports
# answer with ICMP errors. Pings besides.
send() { # NAMESPACE "SOURCE..." "DESTINATION..."
    ip netns exec "$1" python3 - "$2" "$3" <<'PY'
import socket, sys
sources, destinations = sys.argv[1].split(), sys.argv[2].split()
for n, source in enumerate(sources):
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    for i, destination in enumerate(d for d in destinations if (":" in d) == (":" in source)):
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.bind((source, 0))
            s.sendto(b"x" * (10 + n * 7 + i), (destination, 9000))
            if i == 0:
                s.sendto(b"y" * 3000, (destination, 9001))
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((source, 0))
            s.settimeout(2)
            try:
                s.connect((destination, 9002))
            except OSError:
                pass
PY
}
ping_from() { ip netns exec "$1" ping -n -q -c 2 -i 0.01 -I "$2" "$3" >/dev/null; } # NS SOURCE TARGET
traffic() {
    send "$lan" "${lan4[*]} ${lan6[*]}" "${wan4[*]} ${wan6[*]}"
    send "$wan" "${wan4[*]} ${wan6[*]}" "${lan4[*]} ${lan6[*]}"
    ping_from "$lan" 198.18.1.21 198.18.2.18
    ping_from "$lan" 2001:db8:1::1:9 2001:db8:2::2
    ping_from "$wan" 198.18.2.40 198.18.1.35
    ping_from "$wan" 2001:db8:2::18 2001:db8:1::70
}

# What each class of POLICY counted of the packets in WIRE (wire_packets lines): the packets
# between the hosts' addresses, each in the first class of its classification holding the key
# address (`from`: the source, `to`: the destination), else in `otherwise`; IP length as bytes.
# "COUNTER PACKETS BYTES" lines, every class of the policy.
partition() { # POLICY WIRE
    python3 - "$1" "$2" "${lan4[*]} ${lan6[*]}" "${wan4[*]} ${wan6[*]}" <<'PY'
import ipaddress, re, sys
text, lan, wan = open(sys.argv[1]).read(), sys.argv[3].split(), sys.argv[4].split()
lan, wan = {ipaddress.ip_address(a) for a in lan}, {ipaddress.ip_address(a) for a in wan}

classifications = []  # (name, direction, side, [(label, [network])], otherwise label)
for m in re.finditer(r"classify (\w+) forward (in|out) via wan \{(.*?)\}", text, re.S):
    classes, otherwise, side = [], None, None
    for line in filter(None, (l.strip() for l in m.group(3).splitlines())):
        label, body = (x.strip() for x in line.split(":", 1))
        if label == "otherwise":
            otherwise = body
            continue
        side, values = body.split(None, 1)
        classes.append((label, [ipaddress.ip_network(v.strip()) for v in values.split(",")]))
    classifications.append((m.group(1), m.group(2), side, classes, otherwise))

counts = {}
for line in open(sys.argv[2]):
    src, dst, length = line.split()[:3]
    src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    direction = "out" if src in lan and dst in wan else "in" if src in wan and dst in lan else None
    for name, way, side, classes, otherwise in classifications:
        if way != direction:
            continue
        key = src if side == "from" else dst
        label = next((l for l, networks in classes if any(key in n for n in networks)), otherwise)
        if label:
            p, b = counts.get(f"{name}_{label}", (0, 0))
            counts[f"{name}_{label}"] = (p + 1, b + int(length))
for name, _, _, classes, otherwise in classifications:
    for label in [l for l, _ in classes] + ([otherwise] if otherwise else []):
        p, b = counts.get(f"{name}_{label}", (0, 0))
        print(f"{name}_{label}", p, b)
PY
}
readings() { # POLICY -> "COUNTER PACKETS BYTES" lines, sorted
    acctc_r counters "$1" --json | jq -r '.counters[] | "\(.name) \(.packets) \(.bytes)"' | sort
}
# Both policies equal the capture: what every round of traffic so far put in each class, by the
# policy of its round.
same_as_wire() { # WHEN
    awk '{ p[$1] += $2; b[$1] += $3 } END { for (c in p) print c, p[c], b[c] }' "$work/rounds" |
        sort >"$work/expected"
    readings inbpf >"$work/bpf"
    readings innft >"$work/nft"
    diff -u "$work/expected" "$work/bpf" >&2 || fail "BPF's classes differ from the capture $1"
    diff -u "$work/expected" "$work/nft" >&2 || fail "nft's classes differ from the capture $1"
}
: >"$work/rounds"
round() { # WHEN: traffic, captured on the WAN host's side of the wire, then same_as_wire
    capture_start "$wan" eth0 "$work/wire.pcap"
    traffic
    capture_stop
    wire_packets "$work/wire.pcap" >"$work/wire"
    partition "$work/inbpf.acct" "$work/wire" >>"$work/rounds"
    same_as_wire "$1"
}
round "after the first traffic"
for family in '\.' ':'; do
    grep -q "^[^ ]*${family}[^ ]* [^ ]* [^ ]* rest " "$work/wire" ||
        fail "no fragments past the first ($family)"
done
for class in up_shadow up_idle down_hidden down_unused; do
    grep -q "^$class 0 0$" "$work/bpf" || fail "$class counted: $(grep "^$class " "$work/bpf")"
done
awk '$2 == 0 && $1 !~ /^(up_shadow|up_idle|down_hidden|down_unused)$/ { print "FAIL: class " $1 " saw nothing" }' \
    "$work/bpf" | grep . >&2 && fail "a class the traffic should reach counted nothing"

# A reload that moves addresses between classes keeps every class's count (a new one starts at
# zero), then counts by the new partition.
readings inbpf >"$work/before"
apply_both 2
[[ $(links) == 4 ]] || fail "not four pinned links after the reload"
readings inbpf >"$work/after"
{ cat "$work/before"; echo "up_added 0 0"; } | sort >"$work/kept"
diff -u "$work/kept" "$work/after" >&2 || fail "the reload changed a count"
round "after a reload that moved addresses"

# A move into nft rules the kernel refuses (a cgroup that does not exist: nft resolves the path
# while loading, the compiler cannot know) changes nothing: the classifications count on in BPF
# with their counts, and the error says why.
{
    cat "$work/inbpf.acct"
    echo 'counter svc { owner cgroup "system.slice/acctc-no-such-unit.service"; out }'
} >"$work/refused.acct"
acctc_r apply --classes-in nft "$work/refused.acct" >"$work/refused" 2>&1 &&
    fail "a move with a cgroup that does not exist went through"
grep -q "error: " "$work/refused" || fail "no error for the refused move: $(cat "$work/refused")"
[[ $(links) == 4 ]] || fail "not four pinned links after a refused move: $(cat "$work/refused")"
same_as_wire "after a refused move into nft rules"
round "in BPF after a refused move, after more traffic"

# Into nft rules and back, every class with its counts.
acctc_r apply --classes-in nft "$work/inbpf.acct" >"$work/to_nft" 2>&1 || fail "apply --classes-in nft failed: $(cat "$work/to_nft")"
[[ $(grep -c "^note: classification [a-z]* moved from BPF to nft rules" "$work/to_nft") == 4 ]] ||
    fail "not four notes of the move: $(cat "$work/to_nft")"
[[ $(links) == 0 ]] || fail "pins left after moving into nft rules"
same_as_wire "moved into nft rules"
round "in nft rules, after more traffic"
acctc_r apply --classes-in auto "$work/inbpf.acct" >"$work/to_bpf" 2>&1 || fail "apply (auto) failed"
[[ $(grep -c "^note: classification [a-z]* moved from nft rules to BPF" "$work/to_bpf") == 4 ]] ||
    fail "not four notes of the move back: $(cat "$work/to_bpf")"
ip netns exec "$router" nft list table inet acctc_inbpf | grep -q 'classify_' && fail "rules left in nft"
[[ $(links) == 4 ]] || fail "not four pinned links back in BPF"
same_as_wire "moved back into BPF"
round "in BPF again, after more traffic"

# Resets under a flood: the resets' reads add up to every datagram sent, none lost or twice
# (198.18.1.5 is rng's in version 2).
acctc_r counters inbpf --reset >/dev/null
udp_flood "$lan" 198.18.2.2 9000 198.18.1.5
rng() { acctc_r counters inbpf --reset --json | jq '[.counters[] | select(.name == "up_rng") | .packets] | add // 0'; }
resets_during "$flood" rng
flood=
[[ $total == 3000 ]] || fail "resets under traffic read $total datagrams of 3000 sent"
((resets > 2)) || fail "only $resets resets during the flood"

acctc_r remove inbpf >/dev/null 2>&1 || fail "remove failed"
[[ ! -e $ACCTC_BPF_ROOT/acctc ]] || fail "pins left after remove: $(find "$ACCTC_BPF_ROOT/acctc")"
acctc_r remove innft >/dev/null 2>&1 || fail "remove (nft) failed"

# NAT: masquerade on wan0. At the egress the program would see the translated source addresses:
# `bpf` refuses, `auto` counts in nft rules with a notice. Source addresses at the ingress and
# destination addresses at the egress are not translated there: still BPF.
ip netns exec "$router" nft -f - <<'NFT'
table inet acctc_test_nat {
    chain post {
        type nat hook postrouting priority srcnat;
        oifname "wan0" masquerade
    }
}
NFT
cat >"$work/natout.acct" <<'POLICY'
policy natout
interface wan = wan0
classify up forward out via wan {
    lan: from 198.18.1.0/24
    otherwise: rest
}
POLICY
acctc_r apply --classes-in bpf "$work/natout.acct" >"$work/out" 2>&1 &&
    fail "--classes-in bpf of source addresses at the egress under NAT applied"
grep -q -- "--classes-in bpf: cannot count up in BPF.*nat" "$work/out" ||
    fail "the refusal does not name NAT: $(cat "$work/out")"
[[ $(links) == 0 ]] || fail "the refused apply pinned a program"
acctc_r apply --classes-in auto "$work/natout.acct" >"$work/out" 2>&1 ||
    fail "--classes-in auto under NAT failed: $(cat "$work/out")"
grep -q "notice: classification up counts in nft rules: .*nat" "$work/out" ||
    fail "no notice naming NAT: $(cat "$work/out")"
ip netns exec "$router" nft list table inet acctc_natout | grep -q 'classify_up' ||
    fail "under NAT, up is not in nft rules"
[[ $(links) == 0 ]] || fail "under NAT, up pinned a program"
cat >"$work/natin.acct" <<'POLICY'
policy natin
interface wan = wan0
classify down forward in via wan {
    wan: from 198.18.2.0/24
}
classify dest forward out via wan {
    far: to 198.18.2.18
}
POLICY
acctc_r apply --classes-in bpf "$work/natin.acct" >"$work/out" 2>&1 ||
    fail "--classes-in bpf of source addresses at the ingress under NAT failed: $(cat "$work/out")"
[[ $(links) == 2 ]] || fail "under NAT, not two pinned links for natin"
# Two pings of 84 bytes each way: from the WAN host (the requests in down, the replies in dest
# and up) and from the LAN host, masqueraded (the requests in dest and up, the replies in down
# before they are translated back).
ping_from "$wan" 198.18.2.18 198.18.1.21
ping_from "$lan" 198.18.1.21 198.18.2.18
readings natin >"$work/natin"
printf '%s\n' "dest_far 4 336" "down_wan 4 336" | diff -u - "$work/natin" >&2 ||
    fail "under NAT, BPF's classes miscount"
readings natout | grep '^up_lan ' >"$work/natout"
echo "up_lan 4 336" | diff -u - "$work/natout" >&2 || fail "under NAT, nft's classes miscount"
acctc_r remove natin >/dev/null 2>&1 || fail "remove natin failed"
acctc_r remove natout >/dev/null 2>&1 || fail "remove natout failed"
[[ ! -e $ACCTC_BPF_ROOT/acctc ]] || fail "pins left after remove: $(find "$ACCTC_BPF_ROOT/acctc")"
finish
echo "ok: networks in BPF = nft = the wire (first match, trie and hash per length, both families, fragments), reload, moves, resets, remove; NAT: egress sources in nft rules, ingress sources and egress destinations in BPF"
