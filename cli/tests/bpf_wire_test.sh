#!/usr/bin/env bash
# The BPF correction of merged packets (docs/counting.md, "Merged packets corrected in BPF") with
# real bulk TCP through GSO and GRO: a host whose wan0 segments in software and merges what it
# receives (GSO and GRO on, TSO off: the veth carries MSS-sized segments, as a card's wire
# would), and a peer whose end merges nothing. The metered-line counters (`via wan; split
# direction`) equal the peer's veth statistics (the wire, less 14 bytes of Ethernet header per
# frame where veth counts it) while the hooks alone count fewer; they read `merged: false`; a reset zeroes them, a
# reload keeps them, both exact again after more traffic; without a bpffs apply notes the
# fallback and they read `merged`; remove leaves no pin. Private mount namespace, own bpffs.
# On nft, a quota on line (examples/metered_line.acct) reads the wire's use, and a `drop`
# quota cuts off at the wire's budget while the watcher lowers the kernel's; the iptables
# backends (BACKEND iptables-nft or iptables-legacy) run the rest: the same program, added to
# their rules' counters.
#   bpf_wire_test.sh ACCTC SET_OFFLOADS_PY [BACKEND]
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
offloads=$(realpath "$2")
backend=${3:-nft}
tag=bpfw$$
host=$tag-h peer=$tag-p
watcher=
on_exit() { [[ -z $watcher ]] || kill "$watcher" 2>/dev/null; }

for ns in "$host" "$peer"; do
    add_namespace "$ns"
    ip netns exec "$ns" sysctl -qw \
        net.ipv6.conf.default.router_solicitations=0 net.ipv4.tcp_timestamps=1
done
ip -n "$host" link add wan0 type veth peer name eth0 netns "$peer"
ip -n "$host" addr add 198.18.62.1/24 dev wan0
ip -n "$host" addr add 2001:db8:62::1/64 dev wan0 nodad
ip -n "$peer" addr add 198.18.62.2/24 dev eth0
ip -n "$peer" addr add 2001:db8:62::2/64 dev eth0 nodad
ip netns exec "$host" python3 "$offloads" wan0 tso=0 gso=1 gro=1
ip netns exec "$peer" python3 "$offloads" eth0 tso=0 gso=1 gro=0
ip -n "$host" link set wan0 up
ip -n "$peer" link set eth0 up
for a in 198.18.62.2 2001:db8:62::2; do
    ip -n "$host" neigh replace "$a" lladdr "$(mac "$peer" eth0)" dev wan0 nud permanent
done
for a in 198.18.62.1 2001:db8:62::1; do
    ip -n "$peer" neigh replace "$a" lladdr "$(mac "$host" wan0)" dev eth0 nud permanent
done
# IPv6's own reports after the addresses came up (MLD: two within a second) are over before
# the counting starts.
sleep 2.5

cat >"$work/wire.acct" <<'POLICY'
policy wire
interface wan = wan0
counter line { via wan; split direction }
counter web6 { via wan; tcp port 7001; address 2001:db8::/32 }
POLICY
# iptables: a quota's counters are not corrected (its nfacct object cannot follow).
[[ $backend == nft ]] && echo "quota line { on line; 10 GB per month }" >>"$work/wire.acct"
acctc_h() { "$acctc" "$1" --netns "$host" "${@:2}"; }
acctc_b() { acctc_h "$1" --backend "$backend" "${@:2}"; }
acctc_b apply "$work/wire.acct" >"$work/apply.out" 2>&1 || fail "apply failed: $(cat "$work/apply.out")"
grep -q "could not be attached" "$work/apply.out" && fail "no correction: $(cat "$work/apply.out")"

source "$(dirname "$0")/wire_test_lib.sh" # bulk
# The wire as the peer's end saw it: what it received (the host's out) and sent (the host's in).
stats() {
    local d=/sys/class/net/eth0/statistics
    ip netns exec "$peer" sh -c "echo \$(cat $d/rx_packets) \$(cat $d/rx_bytes) \$(cat $d/tx_packets) \$(cat $d/tx_bytes)"
}
quota_used() { acctc_h quotas "$1" --json | jq -r ".quotas[] | select(.quota == \"$2\") | .used_bytes"; }
# The kernel object's budget and charge: "BYTES CONSUMED".
kernel_quota() {
    ip netns exec "$host" nft -j list quota inet "acctc_$1" "$2" |
        jq -r '.nftables[] | select(.quota) | "\(.quota.bytes) \(.quota.used)"'
}
reading() { acctc_b counters wire --json | jq -r ".counters[] | select(.name == \"$1\") | \"\(.packets) \(.bytes) \(.merged)\""; }
hook() { ip netns exec "$host" nft list counter inet acctc_wire "$1" | awk '/packets/ {print $2}'; }

# Both directions equal the wire's deltas since `before`, in L3 bytes: the peer's rx bytes
# (counted by the host's veth_xmit) hold the 14-byte Ethernet header, its tx bytes do not (with
# GRO on, the host's end receives through NAPI, and veth reports what that counted, after
# eth_type_trans() pulled the header).
check_wire() {
    local before=($1) after=($(stats)) what=$2
    local out_p=$((after[0] - before[0])) out_b=$((after[1] - before[1] - 14 * (after[0] - before[0])))
    local in_p=$((after[2] - before[2])) in_b=$((after[3] - before[3]))
    local line_out=($(reading line_out)) line_in=($(reading line_in))
    [[ ${line_out[0]} == "$out_p" && ${line_out[1]} == "$out_b" ]] ||
        fail "$what: line_out ${line_out[*]} != wire $out_p $out_b"
    [[ ${line_in[0]} == "$in_p" && ${line_in[1]} == "$in_b" ]] ||
        fail "$what: line_in ${line_in[*]} != wire $in_p $in_b"
    [[ ${line_out[2]} == false && ${line_in[2]} == false ]] || fail "$what: still merged"
    echo "$what: line_in $in_p packets / $in_b bytes, line_out $out_p / $out_b = the wire"
}

start=$(stats)
applied=$start
bulk 198.18.62.2 7000 60000 40000
bulk 2001:db8:62::2 7001 40000 60000
check_wire "$start" "first transfers"
# The hooks alone saw merged packets: fewer than the wire (nft's counter objects).
if [[ $backend == nft ]]; then
    read -r out_p _ <<<"$(reading line_out)"
    (($(hook line_out) < out_p)) || fail "the hook saw every segment: nothing was merged to correct"
    read -r in_p _ <<<"$(reading line_in)"
    (($(hook line_in) < in_p)) || fail "GRO merged nothing on the host's wan0"
fi
web6=($(reading web6))
((web6[0] > 0)) || fail "web6 counted nothing"

# The quota on line (examples/metered_line.acct): its use is the wire's, both ways.
wire_since() {
    local before=($1) after=($(stats))
    echo $((after[1] - before[1] - 14 * (after[0] - before[0]) + after[3] - before[3]))
}
check_quota() {
    [[ $backend == nft ]] || return 0
    local used wire
    used=$(quota_used wire line) wire=$(wire_since "$applied")
    [[ $used == "$wire" ]] || fail "$1: quota line used $used != the wire's $wire"
    echo "$1: quota line used $used bytes = the wire"
}
check_quota "first transfers"
if [[ $backend == nft ]]; then
    read -r budget consumed <<<"$(kernel_quota wire line)"
    ((consumed < $(quota_used wire line))) || fail "the kernel's charge $consumed holds no merged packets"
fi

# Reload: the same counts.
before=$(reading line_out)
acctc_b apply "$work/wire.acct" >/dev/null 2>&1 || fail "reload failed"
[[ $(reading line_out) == "$before" ]] || fail "reload changed line_out: $before -> $(reading line_out)"

# Reset: zero, then exact again from there.
acctc_b counters wire --reset >/dev/null || fail "reset failed"
[[ $(reading line_out) == "0 0 false" && $(reading line_in) == "0 0 false" ]] ||
    fail "reset left $(reading line_out) / $(reading line_in)"
start=$(stats)
bulk 198.18.62.2 7002 30000 50000
check_wire "$start" "after reset and reload"
check_quota "after a counter reset and a reload"

quotas() {
    # The watcher lowers the kernel's budgets by the correction (consumed is kept), and the use
    # read stays the wire's.
    "$acctc" quotas --netns "$host" --watch --state-dir "$work/state" 2>"$work/watch.log" &
    watcher=$!
    sleep 1.5
    kill "$watcher"
    wait "$watcher"
    watcher=
    read -r budget consumed <<<"$(kernel_quota wire line)"
    used=$(quota_used wire line)
    ((budget == 10000000000 - (used - consumed))) ||
        fail "budget $budget after the watcher: not 10 GB less the correction $((used - consumed))"
    read -r warn_budget _ <<<"$(kernel_quota wire line_warn)"
    ((warn_budget == 8000000000 - (used - consumed))) || fail "warning budget $warn_budget not lowered"
    check_quota "after the watcher lowered the budgets by $((used - consumed))"
    acctc_h quotas wire --reset >/dev/null || fail "quota reset failed"
    [[ $(quota_used wire line) == 0 && $(kernel_quota wire line) == "10000000000 0" ]] ||
        fail "quota reset left $(quota_used wire line), kernel $(kernel_quota wire line)"

    # Enforcement at the wire's budget: `drop` on a 2 MB quota of both directions, the host
    # sending at about 400 kB/s in 20,000-byte writes while the watcher runs. The kernel drops at
    # its lowered budget, so what passed (line_in + line_out, the wire's bytes) ends within the
    # correction added since the watcher's last tick above the budget — and at most one merged
    # packet below it.
    printf '%s\n' "policy cap" "interface wan = wan0" "counter line { via wan; split direction }" \
        "quota cap { on line; 2 MB per day; drop }" >"$work/cap.acct"
    acctc_b apply "$work/cap.acct" >/dev/null 2>&1 || fail "apply cap failed"
    "$acctc" quotas --netns "$host" cap --watch --state-dir "$work/state" 2>"$work/watch.log" &
    watcher=$!
    paced() {
        ip netns exec "$peer" python3 -c "
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$1', $2)); s.listen(1)
c, _ = s.accept()
c.settimeout(3)
try:
    while c.recv(65536): pass
except socket.timeout: pass
    " &
        local server=$!
        sleep 0.3
        ip netns exec "$host" python3 -c "
import socket, time
s = socket.create_connection(('$1', $2))
s.settimeout(2)
sent = 0
try:
    while sent < $3:
        s.sendall(b's' * 20000); sent += 20000; time.sleep(0.05)
except OSError: pass
    "
        wait "$server"
    }
    start=$(stats)
    paced 198.18.62.2 7003 4000000
    kill "$watcher"
    wait "$watcher"
    watcher=
    cap() { acctc_b counters cap --json | jq -r ".counters[] | select(.name == \"$1\") | .bytes"; }
    after=($(stats)) before=($start)
    out_wire=$((after[1] - before[1] - 14 * (after[0] - before[0])))
    [[ $(cap line_out) == "$out_wire" ]] || fail "cap: line_out $(cap line_out) != the wire's $out_wire"
    passed=$(($(cap line_in) + $(cap line_out)))
    state=$(acctc_h quotas cap --json | jq -r '.quotas[0] | "\(.state) \(.used_bytes)"')
    [[ $state == "exhausted 2000000" ]] || fail "cap: quota $state, not spent"
    grep -q "quota cap of policy cap is spent" "$work/watch.log" || fail "the watcher did not say: $(cat "$work/watch.log")"
    echo "cap: $passed wire bytes passed a 2000000-byte budget (over by $((passed - 2000000)))"
    ((passed <= 2000000 + ${ACCTC_WIRE_CAP_SLACK:-24000})) || fail "cap: $passed bytes passed the 2 MB budget"
    ((passed > 2000000 - 65536)) || fail "cap: cut off at $passed bytes, long before the 2 MB budget"
    acctc_b remove cap >/dev/null || fail "remove cap failed"
}
[[ $backend == nft ]] && quotas

# nft flush ruleset (a restart of nftables.service) takes the table's counters; the corrections
# of the same names, pinned, go with them: the apply that re-creates the table starts every
# counter at zero (line_out read 120 packets with no traffic since), and matches the wire again.
if [[ $backend == nft ]]; then
    # The cap run's connection may still retransmit what its quota dropped (seen under load:
    # 43 segments counted after the flush): wait until the host has no connection left to the peer.
    for _ in $(seq 50); do
        [[ -z $(ip netns exec "$host" ss -Htn exclude time-wait dst 198.18.62.2) ]] && break
        sleep 0.2
    done
    ip netns exec "$host" nft flush ruleset
    acctc_b apply "$work/wire.acct" >/dev/null 2>&1 || fail "apply after the flush failed"
    [[ $(reading line_out) == "0 0 false" && $(reading line_in) == "0 0 false" ]] ||
        fail "after a flush and apply: line_out $(reading line_out), line_in $(reading line_in), not 0"
    start=$(stats)
    bulk 198.18.62.2 7003 30000 30000
    check_wire "$start" "after a flush and apply"
fi

# Where bpf(2) is refused (acctc's units: SystemCallFilter=~@privileged holds bpf), reading the
# pins is an error that says so, not "acctc needs CAP_NET_ADMIN" (the units have it).
python3 "$(dirname "$0")/no_bpf_syscall.py" "$acctc" counters --netns "$host" --backend "$backend" wire >"$work/nobpf.out" 2>&1 &&
    fail "counters without bpf(2) exited 0"
grep -q "Operation not permitted (BPF needs root with CAP_BPF and CAP_NET_ADMIN, and the bpf() system call" \
    "$work/nobpf.out" || fail "no word of the refused bpf(2): $(cat "$work/nobpf.out")"

# A reader that does not see the pins (`ip netns exec` hides /sys/fs/bpf) refuses to read: the
# uncorrected counts are lower, and the period totals booked them whole again as after a reset.
ACCTC_BPF_ROOT=$work/not-bpffs "$acctc" counters --netns "$host" --backend "$backend" wire >"$work/hidden.out" 2>&1 &&
    fail "counters without the pins in sight exited 0: $(cat "$work/hidden.out")"
grep -q "corrected by BPF programs pinned under $ACCTC_BPF_ROOT/.*use --netns" "$work/hidden.out" ||
    fail "no word of the pins out of sight: $(cat "$work/hidden.out")"
before=$(reading line_out)
acctc_b save wire >/dev/null || fail "save failed"
ACCTC_BPF_ROOT=$work/not-bpffs acctc_b save wire >/dev/null 2>&1 && fail "save without the pins exited 0"
acctc_b save wire >/dev/null || fail "second save failed"
acctc_h report wire --json | jq -e --argjson bytes "$(cut -d' ' -f2 <<<"$before")" \
    '[.policies[0].periods[0].families[].counters[]? | select(.name == "line_out")][0].bytes == $bytes' \
    >/dev/null || fail "the totals of line_out are not its $before: $(acctc_h report wire --json)"

# No bpffs (nothing pinned: the policy removed first): loaded without the correction, said so,
# and merged again.
acctc_b remove wire >/dev/null || fail "remove before the apply without bpffs failed"
ACCTC_BPF_ROOT=$work/not-bpffs acctc_b apply "$work/wire.acct" >"$work/apply.out" 2>&1 ||
    fail "apply without bpffs failed"
grep -q "note: counters line, web6 count merged packets.*could not be attached: no bpffs" \
    "$work/apply.out" || fail "no fallback note: $(cat "$work/apply.out")"
ACCTC_BPF_ROOT=$work/not-bpffs "$acctc" counters --netns "$host" --backend "$backend" wire --json |
    jq -e '.counters[] | select(.name == "line_out") | .merged' >/dev/null ||
    fail "line_out without the correction does not say merged"

acctc_b apply "$work/wire.acct" >/dev/null 2>&1 || fail "apply again failed"
acctc_b remove wire >/dev/null || fail "remove failed"
left=$(find "$ACCTC_BPF_ROOT" -mindepth 1 ! -name '*.debug' | wc -l)
[[ $left == 0 ]] || fail "remove left $left pinned objects: $(find "$ACCTC_BPF_ROOT")"
echo PASS
