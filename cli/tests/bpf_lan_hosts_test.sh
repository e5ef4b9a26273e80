#!/usr/bin/env bash
# examples/lan_hosts.acct counted in BPF (docs/runtime.md, "Per-host counters in BPF"): a router
# counts every LAN host on the WAN link in both directions, keyed by the LAN-side address
# (`split host remote within home; split direction`): one program at wan0's egress keyed by the
# source, one at its ingress keyed by the destination, each counting only addresses in `home`.
# Two LAN hosts (IPv4, one also IPv6) and one outside `home` (198.19.5.5, not counted) ping a WAN
# host; the per-host counts equal ping's tally and a capture on wan0; moved into nft sets
# (--hosts-in nft) they go on from the same counts, equal to what nft's sets count for more pings.
# Private mount namespace and bpffs (ACCTC_BPF_ROOT).
#   bpf_lan_hosts_test.sh ACCTC SOURCE_DIR
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
example=$(realpath "$2")/examples/lan_hosts.acct
router_between_lan_and_wan bpflh$$
ip -n "$router" addr add 198.18.1.1/24 dev lan0
ip -n "$router" addr add 198.19.5.1/24 dev lan0
ip -n "$router" addr add 2001:db8:0:1::1/64 dev lan0 nodad
ip -n "$router" addr add 198.19.0.1/24 dev wan0
ip -n "$router" addr add 2001:db8:1000::1/64 dev wan0 nodad
ip -n "$lan" addr add 198.18.1.10/24 dev eth0
ip -n "$lan" addr add 198.18.1.11/24 dev eth0
ip -n "$lan" addr add 198.19.5.5/24 dev eth0
ip -n "$lan" addr add 2001:db8:0:1::10/64 dev eth0 nodad
ip -n "$wan" addr add 198.19.0.2/24 dev eth0
ip -n "$wan" addr add 2001:db8:1000::2/64 dev eth0 nodad
ip -n "$lan" route add default via 198.18.1.1
ip -n "$lan" -6 route add default via 2001:db8:0:1::1
ip -n "$wan" route add default via 198.19.0.1
ip -n "$wan" -6 route add default via 2001:db8:1000::1

acctc_r() { "$acctc" "$1" --netns "$router" "${@:2}"; }
acctc_r apply --hosts-in auto "$example" >"$work/out" 2>&1 || fail "apply failed: $(cat "$work/out")"
grep -q notice "$work/out" && fail "fell back to nft: $(cat "$work/out")"
ip netns exec "$router" nft list table inet acctc_lan_hosts | grep -q 'lan_hosts_' &&
    fail "the example's counter is in the nft table too"
[[ $(find "$ACCTC_BPF_ROOT/acctc" -name link | wc -l) == 2 ]] || fail "not two pinned links"

capture_start "$router" wan0 "$work/wan0.pcap"
declare -A tx rx
pings() { # SOURCE TARGET COUNT
    local t r
    read -r t r < <(ip netns exec "$lan" ping -n -q -c "$3" -i 0.01 -I "$1" "$2" |
        awk '/transmitted/ { print $1, $4 }')
    tx[$1]=$((${tx[$1]:-0} + t)) rx[$1]=$((${rx[$1]:-0} + r))
}
all_pings() {
    pings 198.18.1.10 198.19.0.2 3
    pings 198.18.1.11 198.19.0.2 5
    pings 198.19.5.5 198.19.0.2 2 # outside home: no host of the counter
    pings 2001:db8:0:1::10 2001:db8:1000::2 4
}
all_pings
capture_stop
captured() { tcpdump -n -r "$work/wan0.pcap" "$1" 2>/dev/null | wc -l; }
[[ $(captured "src 198.18.1.10") == "${tx[198.18.1.10]}" && $(captured "dst 198.18.1.11") == "${rx[198.18.1.11]}" &&
    $(captured "src 2001:db8:0:1::10") == "${tx[2001:db8:0:1::10]}" ]] || fail "the capture differs from ping's tally"

count() { # DIRECTION HOST -> "packets bytes"
    acctc_r counters lan_hosts --json |
        jq -r --arg d "$1" --arg h "$2" '[.counters[] | select(.counter == "lan_hosts" and
            .labels.direction == $d and .labels.host == $h)] |
            if length == 0 then "0 0" else "\(.[0].packets) \(.[0].bytes)" end'
}
check_all() {
    local host size got
    for host in 198.18.1.10 198.18.1.11 2001:db8:0:1::10; do
        size=84
        [[ $host == *:* ]] && size=104
        got=$(count out "$host")
        [[ $got == "${tx[$host]} $((tx[$host] * size))" ]] || fail "out host=$host: $got, sent ${tx[$host]} ($1)"
        got=$(count in "$host")
        [[ $got == "${rx[$host]} $((rx[$host] * size))" ]] || fail "in host=$host: $got, received ${rx[$host]} ($1)"
    done
    [[ $(count out 198.19.5.5) == "0 0" && $(count in 198.19.5.5) == "0 0" ]] ||
        fail "a host outside home counted ($1)"
    [[ $(count out overflow) == "0 0" && $(count in overflow) == "0 0" ]] ||
        fail "overflow not empty ($1)"
}
check_all "in BPF"

# record --top 1 from the BPF readings: the busiest host (198.18.1.11, 5 pings) has its own RRD
# per direction, the others are summed in @other, which holds their bytes.
acctc_r record --rrd-dir "$work/rrd" --top 1 lan_hosts >/dev/null || fail "record failed"
for file in lan_hosts_in%40198.18.1.11 lan_hosts_out%40198.18.1.11 lan_hosts_in%40other \
    lan_hosts_out%40other; do
    [[ -f $work/rrd/lan_hosts/$file.rrd ]] || fail "record made no $file.rrd: $(ls "$work/rrd/lan_hosts")"
done
[[ -f $work/rrd/lan_hosts/lan_hosts_in%40198.18.1.10.rrd ]] && fail "record kept a host outside the top 1"
other=$(rrdtool info "$work/rrd/lan_hosts/lan_hosts_out%40other.rrd" | sed -n 's/^ds\[.*_bytes\]\.last_ds = "\(.*\)"/\1/p')
expected=$((tx[198.18.1.10] * 84 + tx[2001:db8:0:1::10] * 104))
[[ $other == "$expected" ]] || fail "lan_hosts_out@other holds $other bytes, not $expected"

# nft flush ruleset and apply: the BPF maps, pinned, keep their hosts' counts, and the period
# totals go on from them (a table created anew made save book them all again: twice in report).
acctc_r save >/dev/null || fail "save failed"
ip netns exec "$router" nft flush ruleset
acctc_r apply --hosts-in auto "$example" >/dev/null 2>&1 || fail "apply after the flush failed"
check_all "after a flush and apply"
acctc_r save >/dev/null || fail "save after the flush failed"
booked=$(acctc_r report lan_hosts --saved --json | jq -r '[.policies[0].periods[0].families[].counters[]? |
    select(.name == "lan_hosts_out") | .hosts[] | select(.name == "198.18.1.10")][0].packets')
[[ $booked == "${tx[198.18.1.10]}" ]] ||
    fail "report after a flush: 198.18.1.10 sent $booked packets, not ${tx[198.18.1.10]}"

# A reader that does not see the pins (`ip netns exec` hides /sys/fs/bpf) refuses to read: no
# hosts listed made save drop their baselines and book each whole again when seen anew.
ACCTC_BPF_ROOT=$work/not-bpffs acctc_r counters lan_hosts >"$work/hidden.out" 2>&1 &&
    fail "counters without the pins in sight exited 0: $(cat "$work/hidden.out")"
grep -q "per-host counters of policy lan_hosts count in BPF programs pinned under $ACCTC_BPF_ROOT/" \
    "$work/hidden.out" || fail "no word of the pins out of sight: $(cat "$work/hidden.out")"

acctc_r apply --hosts-in nft "$example" >"$work/to_nft" 2>&1 || fail "apply --hosts-in nft failed"
grep -q "lan_hosts_in moved from BPF to nft sets" "$work/to_nft" || fail "no note: $(cat "$work/to_nft")"
check_all "moved into nft sets"
ACCTC_BPF_ROOT=$work/not-bpffs acctc_r counters lan_hosts >/dev/null 2>&1 ||
    fail "in nft sets, a reader without the bpffs still cannot read"
all_pings
check_all "nft sets after more pings"
acctc_r remove lan_hosts >/dev/null || fail "remove failed"
[[ -z $(find "$ACCTC_BPF_ROOT" -name link) ]] || fail "pins left"

# A table flushed behind acctc's back: `acctc remove` (the policy "should stay away") unpins the
# BPF programs too, which outlived the table and went on counting on wan0.
acctc_r apply --hosts-in bpf "$example" >/dev/null 2>&1 || fail "apply --hosts-in bpf failed"
ip netns exec "$router" nft delete table inet acctc_lan_hosts
acctc_r remove lan_hosts >"$work/gone" 2>&1 || fail "remove of a flushed policy failed: $(cat "$work/gone")"
grep -q "its table was already gone" "$work/gone" || fail "remove: $(cat "$work/gone")"
[[ -z $(find "$ACCTC_BPF_ROOT" -name link) ]] ||
    fail "remove of a flushed policy left its BPF programs pinned: $(find "$ACCTC_BPF_ROOT" -name link)"
echo "ok: examples/lan_hosts.acct in BPF = ping = capture (IPv4, IPv6, a host outside home not counted), the same counts carried into nft sets and counted on"
