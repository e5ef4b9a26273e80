#!/usr/bin/env bash
# Per-host quotas in the kernel (docs/language.md, "Per-host quotas"): two hosts of a peer
# namespace send UDP through a `split host` counter with a 5 kB daily quota per host, warned at
# 50 %, with `drop`. Only the host past its budget is dropped, and exactly its datagrams past
# the limit; `acctc quotas` lists each host (table, JSON, Prometheus with a host label) and
# exits 3; the watcher polls and logs each host's warning and exhaustion; a reload keeps the
# hosts' charges; after `nft flush ruleset` apply gives each host its period total back; a
# changed warning level re-creates the set with the new level; a new period (fake clock) resets
# every host.
#   host_quotas_test.sh ACCTC
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
host=acctc-hq-host-$$
peer=acctc-hq-peer-$$
source "$(dirname "$0")/quota_bench.sh"

make_veth_pair --no-ipv6 "$host" "$peer"
address_pair "$host" "$peer" 198.18.98
ip -n "$peer" addr add 198.18.98.3/24 dev veth0

mkdir -p "$work/etc"
# 1000 bytes of UDP payload: 1028-byte IPv4 packets. 5000 bytes a day per host: 4 datagrams
# (4112 bytes) fit, the 5th (5140) does not; the warning at 2500 bytes is the 3rd (3084).
cat >"$work/etc/hq.acct" <<'POLICY'
policy hq
interface lan = veth0
counter peers { in via lan; udp; split host source }
quota kids { on peers; 5 kB per day; warn at 50 %; drop }
POLICY
quotas() { in_host "$acctc" quotas hq "$@"; }
send() { # send SOURCE N: N datagrams from SOURCE to the receiver
    ip netns exec "$peer" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for _ in range(int(sys.argv[2])):
    s.sendto(b" " * 1000, ("198.18.98.1", 9000))' "$1" "$2"
}
received() { # received SOURCE: datagrams the receiver got from it
    sleep 0.3
    grep -c "^$1\$" "$work/received"
}
host_json() { # host_json HOST: "used state" of one host
    quotas --json 2>/dev/null | python3 -c '
import json, sys
for q in json.load(sys.stdin)["quotas"]:
    if q["host"] == sys.argv[1]:
        print(q["used_bytes"], q["state"], q["warning_bytes"], q["limit_bytes"])' "$1"
}

in_host "$acctc" apply hq >"$work/apply" 2>&1 || fail "apply failed: $(cat "$work/apply")"
[[ $(status) == 0 ]] || fail "before traffic: exit $(status), not 0"
quotas | grep -q "(none yet)" || fail "no row for a quota without hosts: $(quotas)"

start_watcher 2026-03-14T12:00:00Z

ip netns exec "$host" python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.98.1", 9000))
print("ready", flush=True)
while True:
    data, (address, port) = s.recvfrom(4096)
    print(address, flush=True)
' >"$work/received" &
receiver=$!
wait_for "$work/received" "^ready" || fail "receiver did not start"

send 198.18.98.3 3 # 3084 bytes: past its warning level, under its budget
[[ $(status) == 1 ]] || fail "at 3084 bytes: exit $(status), not 1"
[[ $(host_json 198.18.98.3) == "3084 warning 2500 5000" ]] ||
    fail "host .3: $(host_json 198.18.98.3), not 3084 warning 2500 5000"
wait_for "$work/watch.log" "^<4>acctc quotas: quota kids for host 198.18.98.3 of policy hq passed its warning level: 3084 bytes" ||
    fail "no warning line for .3: $(cat "$work/watch.log")"
send 198.18.98.2 10 # the 5th and every later datagram of .2 are past its budget
[[ $(status) == 3 ]] || fail "past .2's budget: exit $(status), not 3"
[[ $(received 198.18.98.2) == 4 ]] || fail ".2 sent 10, $(received 198.18.98.2) received, not the 4 under its budget"
[[ $(received 198.18.98.3) == 3 ]] || fail ".3: $(received 198.18.98.3) of 3 received"
send 198.18.98.3 1 # .3 is not cut off by .2's spent budget: 4112 bytes
[[ $(received 198.18.98.3) == 4 ]] || fail ".3 was dropped with .2: $(received 198.18.98.3) of 4"
[[ $(host_json 198.18.98.2) == "5000 exhausted 2500 5000" ]] ||
    fail "host .2: $(host_json 198.18.98.2), not 5000 exhausted"
wait_for "$work/watch.log" "^<3>acctc quotas: quota kids for host 198.18.98.2 of policy hq is spent.*dropping" ||
    fail "no exhaustion line for .2: $(cat "$work/watch.log")"
grep -q "for host 198.18.98.3 of policy hq is spent" "$work/watch.log" && fail ".3 announced spent"
quotas >"$work/table"
grep -Eq "^hq +kids +198\.18\.98\.2 +day .*exhausted, dropping" "$work/table" ||
    fail "table: $(cat "$work/table")"
quotas --prometheus >"$work/metrics"
grep -qx 'acctc_quota_used_bytes{policy="hq",quota="kids",period="day",host="198.18.98.3"} 4112' "$work/metrics" ||
    fail "no per-host gauge: $(cat "$work/metrics")"
if command -v promtool >/dev/null; then
    promtool check metrics <"$work/metrics" || fail "promtool rejects the gauges"
fi
in_host "$acctc" counters hq --json | python3 -c '
import json, sys
hosts = {c["labels"].get("host"): c for c in json.load(sys.stdin)["counters"]}
assert hosts["198.18.98.2"]["packets"] == 4 and hosts["198.18.98.3"]["packets"] == 4, hosts' ||
    fail "the host counters did not count what was delivered"

# A reload keeps the hosts' charges (the set is kept with its elements).
in_host "$acctc" apply hq >/dev/null 2>&1 || fail "reload failed"
[[ $(host_json 198.18.98.3) == "4112 warning 2500 5000" ]] || fail "after the reload .3: $(host_json 198.18.98.3)"
send 198.18.98.2 1
[[ $(received 198.18.98.2) == 4 ]] || fail "after the reload .2 got through"

# `nft flush ruleset` takes the sets with it; the apply that re-creates them gives each host what
# its counter was booked this period: 4112 bytes each (.2's dropped datagrams were never
# counted), so .2 is under its budget again but the next datagram does not fit.
in_host "$acctc" save hq >/dev/null || fail "save failed"
ip netns exec "$host" nft flush ruleset
in_host "$acctc" apply hq >"$work/apply" 2>&1 || fail "apply after the flush failed: $(cat "$work/apply")"
[[ $(host_json 198.18.98.2) == "4112 warning 2500 5000" ]] || fail "after the flush .2: $(host_json 198.18.98.2)"
[[ $(host_json 198.18.98.3) == "4112 warning 2500 5000" ]] || fail "after the flush .3: $(host_json 198.18.98.3)"
send 198.18.98.2 2
[[ $(received 198.18.98.2) == 4 ]] || fail "after the flush .2 got $(received 198.18.98.2), not 4: its budget came back"
[[ $(status) == 3 ]] || fail "after the flush and .2's datagrams: exit $(status), not 3"
# A reload after the flush keeps the elements as the kernel holds them: nothing added twice.
in_host "$acctc" save hq >/dev/null || fail "second save failed"
in_host "$acctc" apply hq >/dev/null 2>&1 || fail "reload after the flush failed"
[[ $(host_json 198.18.98.3) == "4112 warning 2500 5000" ]] || fail "after the reload .3: $(host_json 198.18.98.3)"

# Another warning level: the set's comment would be stale, so the set is re-created, its hosts
# again from the totals.
sed -i 's/warn at 50 %/warn at 90 %/' "$work/etc/hq.acct"
in_host "$acctc" apply hq >"$work/apply" 2>&1 || fail "reload with 90 % failed"
grep -q "set kids_quota_v4 was re-created (.*); its hosts' use is restored from the period's totals" "$work/apply" ||
    fail "no re-creation note: $(cat "$work/apply")"
[[ $(host_json 198.18.98.3) == "4112 ok 4500 5000" ]] || fail "after the new level .3: $(host_json 198.18.98.3)"
send 198.18.98.3 1 # 5140 bytes: past the budget
[[ $(received 198.18.98.3) == 4 ]] || fail "after the new level .3 got $(received 198.18.98.3), not 4"

# The next day: the watcher resets every host, and .2 gets through again.
stop_watcher
start_watcher 2026-03-15T00:00:05Z
grep -q "^<5>acctc quotas: quota kids of policy hq: the period from .* ended with 2 host(s), the most 5000 bytes used of 5000 each" \
    "$work/watch.log" || fail "no reset line: $(cat "$work/watch.log")"
[[ $(status) == 0 ]] || fail "after the new period: exit $(status), not 0"
send 198.18.98.2 2
[[ $(received 198.18.98.2) == 6 ]] || fail "after the reset .2: $(received 198.18.98.2) received, not 6"
[[ $(host_json 198.18.98.2) == "2056 ok 4500 5000" ]] || fail "after the reset .2: $(host_json 198.18.98.2)"

[[ -n ${ACCTC_TEST_VERBOSE:-} ]] && cat "$work/watch.log" "$work/table" "$work/apply"
finish
echo "all passed"
