#!/usr/bin/env bash
# Quotas on the iptables backends (docs/iptables.md, "Quotas"): the nft test's story
# (quotas_test.sh) on iptables-legacy or iptables-nft, held by one nfacct object. Real UDP
# traffic from a peer namespace crosses a 10 kB quota with a warning at 50 % and `drop`:
# `acctc quotas` exits 0, then 1, then 3 at the packets that cross each level; the watcher logs
# the warning (polled) and the exhaustion (the kernel's NFNLGRP_ACCT_QUOTA event); exactly the
# datagrams past the limit are dropped, also across a flush of the rules and a "reboot" (the
# object deleted: the apply starts it from the period totals); a reload keeps the spent quota
# spent; a changed budget is a new object that goes on from the old one's use, the old one
# deleted; a new period (fake clock) resets it; `remove` deletes the objects. The objects are
# read with scripts/probe_nfacct.py, not with acctc.
#   iptables_quotas_test.sh ACCTC SOURCE_DIR iptables-legacy|iptables-nft
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
source_dir=$(realpath "$2")
variant=$3
host=acctc-iq-host-$$
peer=acctc-iq-peer-$$
source "$(dirname "$0")/quota_bench.sh"

line_quota_host 98
apply() { in_host "$acctc" apply --backend "$variant" qt; }
# The acctc objects as the kernel lists them: "NAME BYTES QUOTA USE" lines.
objects() { ip netns exec "$host" python3 "$source_dir/scripts/probe_nfacct.py" list acctc-; }
flush_rules() { # both families: the ip6tables rules charge the same object
    for tool in iptables ip6tables; do
        ip netns exec "$host" "${variant/iptables/$tool}" -F
        ip netns exec "$host" "${variant/iptables/$tool}" -X
    done
}
used_bytes() { quotas --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["quotas"][0]["used_bytes"])'; }

apply >"$work/apply" 2>&1 || fail "apply failed: $(cat "$work/apply")"
[[ $(status) == 0 ]] || fail "before traffic: exit $(status), not 0"
ip netns exec "$host" "$variant-save" -t filter >"$work/rules"
grep -q -- "-A acctc-qt-q-line -m nfacct --nfacct-name  acctc-qt-line-[0-9a-z]* -m comment --comment \"acctcq:line acctcq1 q=4 role=limit per=month/15 drop warn=5000 @.*qt.acct:4\" -j DROP" \
    "$work/rules" || fail "no charge rule: $(grep nfacct "$work/rules")"
object=$(objects | awk '{print $1}')
[[ $(objects | wc -l) == 1 && $(objects | awk '{print $2, $3}') == "0 10000" ]] ||
    fail "not one object of 10000 bytes: $(objects)"

start_watcher 2026-03-14T12:00:00Z

start_receiver 198.18.98.1

send 4 # 4112 bytes
[[ $(status) == 0 ]] || fail "at 4112 bytes: exit $(status), not 0"
sleep 1.2
grep -q "warning level" "$work/watch.log" && fail "warned at 4112 bytes"
send 1 # 5140 bytes: past the warning level
[[ $(status) == 1 ]] || fail "at 5140 bytes: exit $(status), not 1"
wait_for "$work/watch.log" "^<4>acctc quotas: quota line of policy qt passed its warning level: 5140 bytes" ||
    fail "no warning line: $(cat "$work/watch.log")"
send 4 # 9252 bytes
[[ $(status) == 1 ]] || fail "at 9252 bytes: exit $(status), not 1"
[[ $(received) == 9 ]] || fail "received $(received) of 9 datagrams under the limit"
[[ $(objects | awk '{print $2}') == 9252 ]] || fail "the object holds $(objects), not 9252 bytes"
grep -q "is spent" "$work/watch.log" && fail "spent at 9252 bytes"

# The rules flushed behind acctc's back: the object stays (outside every table) with its use,
# charged by nothing, so no quota is listed; the apply charges it again.
in_host "$acctc" save qt >/dev/null || fail "save failed"
if [[ $variant == iptables-nft ]]; then
    ip netns exec "$host" nft flush ruleset
else
    flush_rules
fi
[[ $(status) == 2 ]] || fail "after the flush: exit $(status), not 2 (no quotas)"
[[ $(objects | awk '{print $1, $2}') == "$object 9252" ]] || fail "after the flush: $(objects)"
apply >/dev/null 2>&1 || fail "apply after the flush failed"
[[ $(status) == 1 ]] || fail "after the flush and apply: exit $(status), not 1"
[[ $(used_bytes) == 9252 ]] || fail "after the flush and apply: $(used_bytes) bytes used, not 9252"

# A reboot takes the object too (here: the rules flushed and the object deleted). The period
# totals know what the quota's counter counted: the apply starts the new object from there.
in_host "$acctc" save qt >/dev/null || fail "second save failed"
flush_rules
sleep 0.3
ip netns exec "$host" python3 "$source_dir/scripts/probe_nfacct.py" del "$object" >/dev/null
[[ -z $(objects) ]] || fail "the object was not deleted: $(objects)"
apply >/dev/null 2>&1 || fail "apply after the reboot failed"
[[ $(objects | awk '{print $1, $2}') == "$object 9252" ]] ||
    fail "after the reboot the object does not start from the totals: $(objects)"
# A reload keeps the object as the kernel holds it: nothing added from the totals again.
in_host "$acctc" save qt >/dev/null || fail "third save failed"
apply >/dev/null 2>&1 || fail "reload after the reboot failed"
[[ $(used_bytes) == 9252 ]] || fail "after a reload: $(used_bytes) bytes used, not 9252"

send 11 # the 10th would make 10280 bytes: it and every later one are past the limit
[[ $(status) == 3 ]] || fail "past the limit: exit $(status), not 3"
wait_for "$work/watch.log" "^<3>acctc quotas: quota line of policy qt is spent.*dropping" ||
    fail "no exhaustion line: $(cat "$work/watch.log")"
[[ $(received) == 9 ]] || fail "20 sent, $(received) received: not exactly the 9 under the limit"
[[ $(grep -c "passed its warning level" "$work/watch.log") == 1 ]] ||
    fail "the warning was announced again: $(cat "$work/watch.log")"
grep -q "already at start" "$work/watch.log" && fail "a line came from a first poll"
# Every datagram was charged, the dropped ones too: 20 x 1028.
[[ $(objects | awk '{print $2}') == 20560 ]] || fail "the object holds $(objects), not 20560"
in_host "$acctc" counters qt --json 2>/dev/null | python3 -c '
import json, sys
counters = {c["name"]: c for c in json.load(sys.stdin)["counters"]}
assert counters["wan_in"]["packets"] == 0, counters' || fail "wan_in counted dropped datagrams"
quotas --json 2>/dev/null | python3 -c '
import json, sys
q = json.load(sys.stdin)["quotas"][0]
assert (q["quota"], q["used_bytes"], q["limit_bytes"], q["warning_bytes"], q["state"], q["drop"]) == \
    ("line", 10000, 10000, 5000, "exhausted", True), q
assert q["period"] == {"length": "month", "start_day": 15}, q
assert q["origin"].endswith("qt.acct:4"), q' || fail "JSON: $(quotas --json)"
quotas >"$work/table" 2>/dev/null
grep -Eq "^qt +line +month from day 15 +10.00kB +5.00kB +10.00kB +100.0% +exhausted, dropping " \
    "$work/table" || fail "table: $(cat "$work/table")"
quotas --prometheus >"$work/metrics" 2>/dev/null
grep -qx 'acctc_quota_used_bytes{policy="qt",quota="line",period="month"} 10000' "$work/metrics" ||
    fail "no used gauge: $(cat "$work/metrics")"
grep -qx 'acctc_quota_limit_bytes{policy="qt",quota="line",period="month"} 10000' "$work/metrics" ||
    fail "no limit gauge"

# A reload must not refill a spent quota, nor make the watcher say it twice.
apply >/dev/null 2>&1 || fail "reload failed"
[[ $(status) == 3 ]] || fail "after the reload: exit $(status), not 3"
send 1
[[ $(received) == 9 ]] || fail "after the reload a datagram past the limit came through"
sleep 1.2
[[ $(grep -c "is spent" "$work/watch.log") == 1 ]] || fail "spent announced again: $(cat "$work/watch.log")"

# A dry run with a new budget creates no object; a failed apply leaves none behind.
sed -i 's/10 kB per month/30 kB per month/' "$work/etc/qt.acct"
in_host "$acctc" apply --dry-run --backend "$variant" qt >/dev/null 2>&1 || fail "dry run failed"
[[ $(objects | wc -l) == 1 && $(objects | awk '{print $1}') == "$object" ]] ||
    fail "the dry run left objects: $(objects)"
# A larger budget is a new object carrying all that was charged (21 x 1028 = 21588 bytes),
# under 30 kB but past its 15000-byte warning level; the old object is gone.
apply >/dev/null 2>&1 || fail "reload with 30 kB failed"
[[ $(status) == 1 ]] || fail "with 30 kB: exit $(status), not 1"
[[ $(objects | wc -l) == 1 && $(objects | awk '{print $1}') != "$object" &&
    $(objects | awk '{print $2, $3}') == "21588 30000" ]] ||
    fail "with 30 kB: not one new object carrying 21588 bytes: $(objects)"
send 2
[[ $(received) == 11 ]] || fail "with 30 kB: received $(received), not 11"

# Enforcement off and on again: each a new object, with what was used.
quota_json() { quotas --json 2>/dev/null | python3 -c "import json, sys; q = json.load(sys.stdin)['quotas'][0]; print(q['used_bytes'], q['drop'], q['limit_bytes'])"; }
sed -i 's/; drop }/ }/' "$work/etc/qt.acct"
apply >/dev/null 2>&1 || fail "reload without drop failed"
[[ $(quota_json) == "23644 False 30000" ]] || fail "without drop: $(quota_json), not 23644 False 30000"
sed -i 's/warn at 50 % }/warn at 50 %; drop }/' "$work/etc/qt.acct"
apply >/dev/null 2>&1 || fail "reload with drop again failed"
[[ $(quota_json) == "23644 True 30000" ]] || fail "with drop again: $(quota_json)"
[[ $(objects | wc -l) == 1 ]] || fail "objects left behind: $(objects)"

# The next period begins on the 15th: a watcher started then resets the quota (GET_CTRZERO).
stop_watcher
start_watcher 2026-03-15T00:00:05Z
grep -q "^<5>acctc quotas: quota line of policy qt: the period from 2026-02-15.* ended with 23644 bytes" \
    "$work/watch.log" || fail "no reset line: $(cat "$work/watch.log")"
[[ $(status) == 0 ]] || fail "after the new period: exit $(status), not 0"
send 2
[[ $(received) == 13 ]] || fail "after the reset: received $(received), not 13"
[[ $(used_bytes) == 2056 ]] || fail "after the reset 2 datagrams, 2056 bytes, are used, not $(used_bytes)"
# --reset by hand likewise, printing what it held.
quotas --reset --json 2>/dev/null | python3 -c '
import json, sys
q = json.load(sys.stdin)["quotas"][0]
assert q["used_bytes"] == 2056, q' || fail "--reset did not print 2056 bytes"
[[ $(used_bytes) == 0 ]] || fail "after --reset $(used_bytes) bytes are used"
stop_watcher

# A quota taken out of the policy: its object is deleted by the reload; `remove` deletes the
# objects of a policy that has one.
sed -i '/^quota/d' "$work/etc/qt.acct"
apply >/dev/null 2>&1 || fail "reload without the quota failed"
[[ $(status) == 2 ]] || fail "without quotas: exit $(status), not 2"
[[ -z $(objects) ]] || fail "objects left after the quota went: $(objects)"
echo 'quota line { on wan; 10 kB per month; drop }' >>"$work/etc/qt.acct"
apply >/dev/null 2>&1 || fail "apply with the quota again failed"
[[ $(objects | wc -l) == 1 ]] || fail "no object: $(objects)"
in_host "$acctc" remove --backend "$variant" qt >/dev/null 2>&1 || fail "remove failed"
[[ -z $(objects) ]] || fail "objects left after remove: $(objects)"
ip netns exec "$host" "$variant-save" | grep -q acctc && fail "rules left after remove"

finish
echo "all passed"
