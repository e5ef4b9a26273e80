#!/usr/bin/env bash
# Per-host counters in BPF (`acctc apply --hosts-in bpf`, docs/runtime.md "Per-host counters in
# BPF") with real packets: a router namespace between a LAN (two IPv4 hosts, one IPv6) and a WAN
# peer. Each LAN host's packets into the router (`in via lan; split host source`) and out of it
# towards the host (`out via lan; split host destination`) equal ping's own tally and a capture
# on the router's lan0, IPv4 and IPv6; a reload keeps every count; resets under a flood lose
# nothing (the resets' reads add up to the packets sent); remove leaves no pin and the program
# stops counting. Runs in a private mount namespace with its own bpffs (ACCTC_BPF_ROOT).
#   bpf_hosts_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
router_between_lan_and_wan bpfh$$
router_addresses 198.18.1.10 198.18.1.11 2001:db8:1::10

cat >"$work/bpfhosts.acct" <<'POLICY'
policy bpfhosts
interface lan = lan0
interface wan = wan0
counter sent { in via lan; split host source }
counter received { out via lan; split host destination }
counter wan_total { via wan }
POLICY
acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }
acctc_r apply --hosts-in bpf "$work/bpfhosts.acct" >/dev/null 2>&1 || fail "apply failed"
ip netns exec "$router" nft list table inet acctc_bpfhosts | grep -q 'sent\|received' &&
    fail "the BPF counters are in the nft table too"
pins=$(find "$ACCTC_BPF_ROOT/acctc" -name link | wc -l)
[[ $pins == 2 ]] || fail "$pins pinned links, not 2"

# A capture of what the LAN host sends and receives on the router's lan0.
capture_start "$router" lan0 "$work/lan0.pcap"
ping_tally() { # NS ARGS...: "transmitted received"
    ip netns exec "$1" ping -n -q "${@:2}" | awk '/transmitted/ { print $1, $4 }'
}
read -r tx10 rx10 < <(ping_tally "$lan" -c 3 -i 0.01 -I 198.18.1.10 198.18.2.2)
read -r tx11 rx11 < <(ping_tally "$lan" -c 5 -i 0.01 -I 198.18.1.11 198.18.2.2)
read -r tx6 rx6 < <(ping_tally "$lan" -c 4 -i 0.01 -I 2001:db8:1::10 2001:db8:2::2)
capture_stop
captured() { tcpdump -n -r "$work/lan0.pcap" "$1" 2>/dev/null | wc -l; }

# COUNTER HOST -> "packets bytes" from acctc counters --json.
count() {
    acctc_r counters bpfhosts --json |
        jq -r --arg c "$1" --arg h "$2" \
            '[.counters[] | select(.counter == $c and .labels.host == $h)] |
             if length == 0 then "0 0" else "\(.[0].packets) \(.[0].bytes)" end'
}
expect() { # COUNTER HOST PACKETS BYTES
    local got
    got=$(count "$1" "$2")
    [[ $got == "$3 $4" ]] || fail "$1 host=$2: $got, expected $3 $4 ($5)"
}
check_all() {
    expect sent 198.18.1.10 "$tx10" $((tx10 * 84)) "$1"
    expect received 198.18.1.10 "$rx10" $((rx10 * 84)) "$1"
    expect sent 198.18.1.11 "$tx11" $((tx11 * 84)) "$1"
    expect received 198.18.1.11 "$rx11" $((rx11 * 84)) "$1"
    expect sent 2001:db8:1::10 "$tx6" $((tx6 * 104)) "$1"
    expect received 2001:db8:1::10 "$rx6" $((rx6 * 104)) "$1"
    expect sent overflow 0 0 "$1"
}
[[ $tx10 == 3 && $rx10 == 3 && $tx11 == 5 && $rx11 == 5 && $tx6 == 4 && $rx6 == 4 ]] ||
    fail "pings lost: $tx10/$rx10 $tx11/$rx11 $tx6/$rx6"
[[ $(captured "src 198.18.1.10") == "$tx10" && $(captured "dst 198.18.1.10") == "$rx10" &&
    $(captured "src 198.18.1.11") == "$tx11" && $(captured "src 2001:db8:1::10") == "$tx6" &&
    $(captured "dst 2001:db8:1::10") == "$rx6" ]] || fail "the capture differs from ping's tally"
check_all "after the pings"
acctc_r counters bpfhosts sent --sort packets --top 1 | grep -q '198.18.1.11' ||
    { acctc_r counters bpfhosts sent --sort packets --top 1; fail "--sort packets --top 1 is not 198.18.1.11"; }

# A reload of the same policy keeps every host's counts.
acctc_r apply --hosts-in bpf "$work/bpfhosts.acct" >/dev/null 2>&1 || fail "reload failed"
check_all "after a reload"

# Switching where the hosts count carries every host's counts: into nft sets (each host one
# element, in the part nft's jhash sends it to, so that its next packets add to it) and back
# into BPF (--hosts-in auto).
more_pings() {
    local tx rx
    read -r tx rx < <(ping_tally "$lan" -c 2 -i 0.01 -I 198.18.1.10 198.18.2.2)
    tx10=$((tx10 + tx)) rx10=$((rx10 + rx))
    read -r tx rx < <(ping_tally "$lan" -c 3 -i 0.01 -I 2001:db8:1::10 2001:db8:2::2)
    tx6=$((tx6 + tx)) rx6=$((rx6 + rx))
}
acctc_r apply --hosts-in nft "$work/bpfhosts.acct" >"$work/to_nft" 2>&1 || fail "apply --hosts-in nft failed"
grep -q "counter sent moved from BPF to nft sets" "$work/to_nft" || fail "no note of the move: $(cat "$work/to_nft")"
[[ -z $(find "$ACCTC_BPF_ROOT" -name link) ]] || fail "pins left after moving into nft sets"
check_all "moved into nft sets"
more_pings
check_all "in nft sets, after more pings"
elements=$(ip netns exec "$router" nft -j list table inet acctc_bpfhosts |
    jq '[.nftables[] | .set? // empty | select(.name | startswith("sent_hosts")) | (.elem // [])[] |
         .elem.val | select(. == "198.18.1.10" or . == "198.18.1.11" or . == "2001:db8:1::10")] | length')
[[ $elements == 3 ]] || fail "$elements elements of the LAN hosts in sent's sets, not one each (3)"
acctc_r apply --hosts-in auto "$work/bpfhosts.acct" >"$work/to_bpf" 2>&1 || fail "apply (auto) failed"
grep -q "counter sent moved from nft sets to BPF" "$work/to_bpf" || fail "no note of the move back: $(cat "$work/to_bpf")"
ip netns exec "$router" nft list table inet acctc_bpfhosts | grep -q 'sent_hosts' && fail "sets left in nft"
check_all "moved back into BPF"
more_pings
check_all "in BPF again, after more pings"

# Resets under a flood: the resets' reads add up to every packet sent, none lost or twice.
acctc_r counters bpfhosts --reset >/dev/null
ip netns exec "$lan" ping -n -q -c 3000 -i 0.001 -I 198.18.1.10 198.18.2.2 >"$work/flood" &
flood=$!
total=0
while kill -0 "$flood" 2>/dev/null; do
    got=$(acctc_r counters bpfhosts --reset --json |
        jq '[.counters[] | select(.counter == "sent" and .labels.host == "198.18.1.10") | .packets] | add // 0')
    total=$((total + got))
    resets=$((${resets:-0} + 1))
done
wait "$flood"
got=$(acctc_r counters bpfhosts --reset --json |
    jq '[.counters[] | select(.counter == "sent" and .labels.host == "198.18.1.10") | .packets] | add // 0')
total=$((total + got))
sent=$(awk '/transmitted/ { print $1 }' "$work/flood")
[[ $total == "$sent" ]] || fail "resets under traffic read $total packets of $sent sent"
((resets > 2)) || fail "only $resets resets during the flood"

# A failed apply leaves nothing: its second counter's device is missing.
cat >"$work/bpffail.acct" <<'POLICY'
policy bpffail
interface lan = lan0
interface gone = nosuch0
counter sent { in via lan; split host source }
counter other { in via gone; split host source }
POLICY
acctc_r apply --hosts-in bpf "$work/bpffail.acct" >/dev/null 2>&1 && fail "apply on a missing device succeeded"
[[ -z $(find "$ACCTC_BPF_ROOT" -name bpffail) ]] || fail "a failed apply left pins"
ip netns exec "$router" nft list table inet acctc_bpffail >/dev/null 2>&1 && fail "a failed apply left a table"

# A reader that does not see the pins (`ip netns exec` hides /sys/fs/bpf) refuses to read: an
# empty listing made save drop every host's baseline and book each whole again later.
ACCTC_BPF_ROOT=$work/not-bpffs acctc_r counters bpfhosts >"$work/hidden.out" 2>&1 &&
    fail "counters without the pins in sight exited 0: $(cat "$work/hidden.out")"
grep -q "pinned under $ACCTC_BPF_ROOT/.*use --netns" "$work/hidden.out" ||
    fail "no word of the pins out of sight: $(cat "$work/hidden.out")"

# remove: nothing pinned stays, nothing counts any more.
acctc_r remove bpfhosts >/dev/null || fail "remove failed"
# ... and the record of the pins goes with them: a reader without them reads no table, not pins.
ACCTC_BPF_ROOT=$work/not-bpffs acctc_r counters bpfhosts 2>&1 | grep -q "pinned under" &&
    fail "the record of the pins outlived remove"
left=$(find "$ACCTC_BPF_ROOT" -mindepth 1 ! -name '*.debug' | wc -l)
[[ $left == 0 ]] || fail "remove left $left pinned objects: $(find "$ACCTC_BPF_ROOT")"
echo "ok: BPF per-host counts = ping = capture (IPv4, IPv6), kept over a reload, $resets exact resets under traffic ($sent packets), nothing left after remove"
