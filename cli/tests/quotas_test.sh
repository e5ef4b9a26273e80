#!/usr/bin/env bash
# Quotas in the kernel (docs/runtime.md, "Quotas"): real UDP traffic from a peer namespace
# crosses a 10 kB quota with a warning at 50 % and `drop`. `acctc quotas` exits 0, then 1, then
# 3 at the packets that cross each level; the watcher logs the warning and the exhaustion from
# the kernel's events (journal priority prefixes <4> and <3>); exactly the datagrams past the
# limit are dropped (sent against received); a reload keeps the spent quota spent; a new period
# (fake clock, ACCTC_NOW) resets it; the Prometheus gauges pass promtool.
# Then examples/metered_line.acct applies in a namespace with an eth0 and `acctc quotas` exits 0.
#   quotas_test.sh ACCTC SOURCE_DIR
set -u
acctc=$(realpath "$1")
source_dir=$(realpath "$2")
host=acctc-quota-host-$$
peer=acctc-quota-peer-$$
example=acctc-quota-example-$$
work=$(mktemp -d /tmp/acctc-quotas-XXXXXX)
watcher=
receiver=
cleanup() {
    [[ -n $watcher ]] && kill "$watcher" 2>/dev/null && wait "$watcher" 2>/dev/null
    [[ -n $receiver ]] && kill "$receiver" 2>/dev/null
    ip netns del "$host" 2>/dev/null
    ip netns del "$peer" 2>/dev/null
    ip netns del "$example" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
export TZ=UTC

ip netns add "$host" || exit 1
ip netns add "$peer" || exit 1
ip link add veth0 netns "$host" type veth peer name veth0 netns "$peer" || exit 1
for ns in "$host" "$peer"; do
    # No IPv6: its neighbour discovery would be charged to the quota too.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
    ip -n "$ns" link set veth0 up
done
ip -n "$host" addr add 198.18.99.1/24 dev veth0
ip -n "$peer" addr add 198.18.99.2/24 dev veth0

mkdir -p "$work/etc"
# 10 kB a month from the 15th, warned at 5000 bytes, then dropped. Each datagram below is
# 1000 bytes of UDP payload: 1028 bytes of IPv4 packet, as the quota counts them.
cat >"$work/etc/qt.acct" <<'POLICY'
policy qt
interface wan = veth0
counter wan { via wan; split direction }
quota line { on wan; 10 kB per month from day 15; warn at 50 %; drop }
POLICY
in_host() { ip netns exec "$host" env ACCTC_POLICY_DIR="$work/etc" "$@"; }
quotas() { in_host "$acctc" quotas qt "$@"; }
status() { quotas >/dev/null 2>&1; echo $?; }
send() { # send N: N datagrams from the peer to the receiver
    ip netns exec "$peer" bash -c \
        'for ((i = 0; i < $1; i++)); do printf "%1000s" "" >/dev/udp/198.18.99.1/9000; done' _ "$1"
}
wait_for() { # wait_for FILE PATTERN: up to 3 s
    for _ in $(seq 30); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
received() { # what the receiver has counted so far
    sleep 0.3
    tail -n 1 "$work/received"
}

in_host "$acctc" apply qt >/dev/null 2>&1 || fail "apply failed"
[[ $(status) == 0 ]] || fail "before traffic: exit $(status), not 0"

# The watcher, its stderr taken for the journal (JOURNAL_STREAM names it): "<N>" prefixes.
start_watcher() { # start_watcher NOW
    : >"$work/watch.log"
    stream=$(stat -c '%d:%i' "$work/watch.log")
    ip netns exec "$host" env ACCTC_NOW="$1" JOURNAL_STREAM="$stream" \
        "$acctc" quotas --watch --state-dir "$work/state" 2>>"$work/watch.log" &
    watcher=$!
    wait_for "$work/watch.log" "watching" || fail "the watcher did not start: $(cat "$work/watch.log")"
}
stop_watcher() { kill "$watcher"; wait "$watcher" 2>/dev/null; watcher=; }
start_watcher 2026-03-14T12:00:00Z

# The receiver counts datagrams, one line per datagram, after "ready".
ip netns exec "$host" python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.99.1", 9000))
print(0, flush=True)
n = 0
while True:
    s.recv(4096)
    n += 1
    print(n, flush=True)
' >"$work/received" &
receiver=$!
wait_for "$work/received" "^0" || fail "receiver did not start"

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
send 11 # the 10th would make 10280 bytes: it and every later one are past the limit
[[ $(status) == 3 ]] || fail "past the limit: exit $(status), not 3"
wait_for "$work/watch.log" "^<3>acctc quotas: quota line of policy qt is spent.*dropping" ||
    fail "no exhaustion line: $(cat "$work/watch.log")"
[[ $(received) == 9 ]] || fail "20 sent, $(received) received: not exactly the 9 under the limit"
grep -q "already at start" "$work/watch.log" && fail "a line came from a poll, not the event"
in_host "$acctc" counters qt --json | python3 -c '
import json, sys
counters = {c["name"]: c for c in json.load(sys.stdin)["counters"]}
assert counters["wan_in"]["packets"] == 9, counters' || fail "wan_in did not count the 9 delivered"
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
used=$(quotas --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["quotas"][0]["used_bytes"])')
[[ $used == 2056 ]] || fail "after the reset 2 datagrams, 2056 bytes, are used, not $used"

# A quota taken out of the policy is deleted by the reload.
sed -i '/^quota/d' "$work/etc/qt.acct"
in_host "$acctc" apply qt >/dev/null 2>&1 || fail "reload without the quota failed"
[[ $(status) == 2 ]] || fail "without quotas: exit $(status), not 2"
ip netns exec "$host" nft list quotas | grep -q "quota " &&
    fail "quota objects left: $(ip netns exec "$host" nft list quotas)"

# The example: the seed's supernode on a metered line, with its group from specs/etc.
stop_watcher
ip netns add "$example" || exit 1
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

((failures == 0)) && echo "all passed"
((failures == 0))
