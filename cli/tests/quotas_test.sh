#!/usr/bin/env bash
# Quotas in the kernel (docs/runtime.md, "Quotas"): real UDP traffic from a peer namespace
# crosses a 10 kB quota with a warning at 50 % and `drop`. `acctc quotas` exits 0, then 1, then
# 3 at the packets that cross each level; the watcher logs the warning and the exhaustion from
# the kernel's events (journal priority prefixes <4> and <3>); exactly the datagrams past the
# limit are dropped (sent against received), also across an `nft flush ruleset` and re-apply
# (the quota restarts from the period totals); a reload keeps the spent quota spent; a new period
# (fake clock, ACCTC_NOW) resets it; a reset by hand is not undone by a flush; the Prometheus
# gauges pass promtool.
# Then examples/metered_line.acct applies in a namespace with an eth0 and `acctc quotas` exits 0.
# The iptables backends: iptables_quotas_test.sh.
#   quotas_test.sh ACCTC SOURCE_DIR
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
source_dir=$(realpath "$2")
host=acctc-quota-host-$$
peer=acctc-quota-peer-$$
example=acctc-quota-example-$$
source "$(dirname "$0")/quota_bench.sh"

line_quota_host 99

in_host "$acctc" apply qt >/dev/null 2>&1 || fail "apply failed"
[[ $(status) == 0 ]] || fail "before traffic: exit $(status), not 0"

start_watcher 2026-03-14T12:00:00Z

start_receiver 198.18.99.1

send 4 # 4112 bytes
[[ $(status) == 0 ]] || fail "at 4112 bytes: exit $(status), not 0"
sleep 0.3
grep -q "warning level" "$work/watch.log" && fail "warned at 4112 bytes"
send 1 # 5140 bytes: past the warning level
[[ $(status) == 1 ]] || fail "at 5140 bytes: exit $(status), not 1"
wait_for "$work/watch.log" "^<4>acctc quotas: quota line of policy qt passed its warning level" ||
    fail "no warning line: $(cat "$work/watch.log")"
send 4 # 9252 bytes
[[ $(status) == 1 ]] || fail "at 9252 bytes: exit $(status), not 1"
[[ $(received) == 9 ]] || fail "received $(received) of 9 datagrams under the limit"
grep -q "is spent" "$work/watch.log" && fail "spent at 9252 bytes"

# `nft flush ruleset` (a restart of nftables.service; a reboot likewise) takes the quota objects
# with it. The period totals know what the quota's counter counted: the apply that re-creates
# the table starts the objects from there, so the quota goes on where it was.
used_bytes() { quotas --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["quotas"][0]["used_bytes"])'; }
in_host "$acctc" save qt >/dev/null || fail "save failed"
ip netns exec "$host" nft flush ruleset
[[ $(status) == 2 ]] || fail "after the flush: exit $(status), not 2 (no quotas)"
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "apply after the flush failed"
[[ $(status) == 1 ]] || fail "after the flush and apply: exit $(status), not 1"
[[ $(used_bytes) == 9252 ]] || fail "after the flush and apply: $(used_bytes) bytes used, not 9252"
# A reload keeps the objects as the kernel holds them: nothing added from the totals again.
in_host "$acctc" save qt >/dev/null || fail "second save failed"
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "reload after the flush failed"
[[ $(used_bytes) == 9252 ]] || fail "after a reload: $(used_bytes) bytes used, not 9252"
send 11 # the 10th would make 10280 bytes: it and every later one are past the limit
[[ $(status) == 3 ]] || fail "past the limit: exit $(status), not 3"
wait_for "$work/watch.log" "^<3>acctc quotas: quota line of policy qt is spent.*dropping" ||
    fail "no exhaustion line: $(cat "$work/watch.log")"
[[ $(received) == 9 ]] || fail "20 sent, $(received) received: not exactly the 9 under the limit (across the flush)"
[[ $(grep -c "passed its warning level" "$work/watch.log") == 1 ]] ||
    fail "the warning was announced again after the flush: $(cat "$work/watch.log")"
grep -q "already at start" "$work/watch.log" && fail "a line came from a poll, not the event"
# The counter counted the 9 delivered (before the flush), the period totals say, and none of
# the dropped ones (after it, the kernel's).
in_host "$acctc" counters qt --json | python3 -c '
import json, sys
counters = {c["name"]: c for c in json.load(sys.stdin)["counters"]}
assert counters["wan_in"]["packets"] == 0, counters' || fail "wan_in counted dropped datagrams"
in_host "$acctc" report qt --json | python3 -c '
import json, sys
period = json.load(sys.stdin)["policies"][0]["periods"][-1]
counters = {c["name"]: c for f in period["families"] for c in f["counters"]}
assert counters["wan_in"]["packets"] == 9, counters' || fail "the report does not hold the 9 delivered"
quotas --json | python3 -c '
import json, sys
q = json.load(sys.stdin)["quotas"][0]
assert (q["quota"], q["used_bytes"], q["limit_bytes"], q["warning_bytes"], q["state"], q["drop"]) == \
    ("line", 10000, 10000, 5000, "exhausted", True), q
assert q["period"] == {"length": "month", "start_day": 15}, q' || fail "JSON: $(quotas --json)"
quotas --prometheus >"$work/metrics"
grep -qx 'acctc_quota_used_bytes{policy="qt",quota="line",period="month"} 10000' "$work/metrics" ||
    fail "no used gauge: $(cat "$work/metrics")"
grep -qx 'acctc_quota_limit_bytes{policy="qt",quota="line",period="month"} 10000' "$work/metrics" ||
    fail "no limit gauge"
if command -v promtool >/dev/null; then
    promtool check metrics <"$work/metrics" || fail "promtool rejects the gauges"
fi

# A reload must not refill a spent quota, nor make the watcher say it twice.
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "reload failed"
[[ $(status) == 3 ]] || fail "after the reload: exit $(status), not 3"
send 1
[[ $(received) == 9 ]] || fail "after the reload a datagram past the limit came through"
sleep 0.3
[[ $(grep -c "is spent" "$work/watch.log") == 1 ]] || fail "spent announced again: $(cat "$work/watch.log")"

# A larger budget on reload keeps what was charged: the 11 dropped datagrams were charged too
# (21 x 1028 = 21588 bytes), under 30 kB but past its 15000-byte warning level.
sed -i 's/10 kB per month/30 kB per month/' "$work/etc/qt.acct"
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "reload with 30 kB failed"
[[ $(status) == 1 ]] || fail "with 30 kB: exit $(status), not 1"
send 2
[[ $(received) == 11 ]] || fail "with 30 kB: received $(received), not 11"

# Enforcement off and on again: the comment the watcher reads the quota by changes, so the
# objects are declared again, with what they had used.
quota_json() { quotas --json 2>/dev/null | python3 -c "import json, sys; q = json.load(sys.stdin)['quotas'][0]; print(q['used_bytes'], q['drop'], q['limit_bytes'])"; }
sed -i 's/; drop }/ }/' "$work/etc/qt.acct"
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "reload without drop failed"
[[ $(quota_json) == "23644 False 30000" ]] || fail "without drop: $(quota_json), not 23644 False 30000"
sed -i 's/warn at 50 % }/warn at 50 %; drop }/' "$work/etc/qt.acct"
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "reload with drop again failed"
[[ $(quota_json) == "23644 True 30000" ]] || fail "with drop again: $(quota_json)"

# The next period begins on the 15th: a watcher started then (the boundary passed while it was
# not running) resets the quota, and traffic flows again.
stop_watcher
start_watcher 2026-03-15T00:00:05Z
grep -q "^<5>acctc quotas: quota line of policy qt: the period from 2026-02-15.* ended with 23644 bytes" \
    "$work/watch.log" || fail "no reset line: $(cat "$work/watch.log")"
[[ $(status) == 0 ]] || fail "after the new period: exit $(status), not 0"
send 2
[[ $(received) == 13 ]] || fail "after the reset: received $(received), not 13"
# The same period again (a restart, or a clock set back): no second reset.
stop_watcher
start_watcher 2026-03-14T23:00:00Z
sleep 0.3
grep -q "ended with" "$work/watch.log" && fail "a clock set back reset the quota again"
used=$(used_bytes)
[[ $used == 2056 ]] || fail "after the reset 2 datagrams, 2056 bytes, are used, not $used"

# A reset by hand within the period, then a flush: the apply that re-creates the quota starts it
# from what its counters were booked since the reset, not over the whole period (it came back
# spent with the 10000 bytes of everything this period, though reset by hand to 0).
quotas --reset >/dev/null 2>&1 || fail "quotas --reset failed"
[[ $(used_bytes) == 0 ]] || fail "after quotas --reset: $(used_bytes) bytes used, not 0"
send 3 # 3084 bytes
in_host "$acctc" save qt >/dev/null || fail "save after the reset failed"
ip netns exec "$host" nft flush ruleset
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "apply after the reset and flush failed"
[[ $(used_bytes) == 3084 ]] ||
    fail "after a reset by hand and a flush: $(used_bytes) bytes used, not the 3084 since the reset"
[[ $(status) == 0 ]] || fail "after a reset by hand and a flush: exit $(status), not 0 (under the warning level)"

# A quota taken out of the policy is deleted by the reload.
sed -i '/^quota/d' "$work/etc/qt.acct"
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "reload without the quota failed"
[[ $(status) == 2 ]] || fail "without quotas: exit $(status), not 2"
ip netns exec "$host" nft list quotas | grep -q "quota " &&
    fail "quota objects left: $(ip netns exec "$host" nft list quotas)"

# The example: the seed's supernode on a metered line, with its group from specs/etc.
stop_watcher
add_namespace "$example"
ip -n "$example" link add eth0 type veth peer name eth0-peer || fail "no eth0"
ip -n "$example" link set eth0 up
in_example() { ip netns exec "$example" "$acctc" "$@" --etc "$source_dir/specs/etc"; }
in_example apply "$source_dir/examples/metered_line.acct" >/dev/null 2>&1 ||
    fail "the example does not apply"
in_example quotas metered_line >"$work/example" 2>/dev/null
example_status=$?
[[ $example_status == 0 ]] || fail "the example's quotas exit $example_status: $(cat "$work/example")"
grep -q "^metered_line  line   month from day 15 .* ok" "$work/example" ||
    fail "the example's quota: $(cat "$work/example")"

finish
echo "all passed"
