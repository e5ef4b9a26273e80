#!/usr/bin/env bash
# What the documentation says of counters, quotas and report, checked with real packets in a
# namespace (pings over a veth pair to a peer namespace), each against an independent view
# (nft's own listing) where there is one:
# - `acctc quotas --reset` of a spent quota zeroes it and exits 0: the status answers for the
#   quotas as they are after it (docs/runtime.md, "acctc quotas");
# - `acctc report` shows a per-host counter's overflow as its host `overflow`, as `acctc
#   counters` does (docs/periods.md, "The report");
# - a policy applied with the apply unit's umask and then flushed is reported as not loaded to
#   another user, as the exporter unit runs `serve` (counters and serve, scraped with curl,
#   also in the absolute form: docs/recording.md, "Prometheus endpoint");
# - `acctc report` of a policy that is neither applied nor saved is an error (exit 1).
#   documented_test.sh ACCTC
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
host=acctc-doc-host-$$
peer=acctc-doc-peer-$$
export TZ=UTC
make_veth_pair --no-ipv6 "$host" "$peer"
address_pair "$host" "$peer" 198.18.97
in_host() { ip netns exec "$host" env ACCTC_STATE_DIR="$work/state" "$acctc" "$@"; }
ping_peer() { ip netns exec "$host" ping -n -q -c "$1" -i 0.01 -s 100 198.18.97.2 >/dev/null; }

# The first apply in the namespace, as acctc-apply@.service runs it (UMask=0077): it makes the
# directory of the namespace's marks (checked at the end).
printf 'policy doc_umask\ncounter everything { include loopback }\n' >"$work/doc_umask.acct"
(umask 0077 && in_host apply "$work/doc_umask.acct" >/dev/null 2>&1) || fail "apply with umask 0077 failed"

cat >"$work/doc.acct" <<'POLICY'
policy doc
interface wan = veth0
network home = 198.18.0.0/16
counter devices { via wan; split host remote within home; split direction }
quota line { on devices; 1 kB per day; warn at 50 % }
POLICY
in_host apply "$work/doc.acct" >/dev/null 2>&1 || fail "apply failed"
in_host save >/dev/null || fail "the first save failed"
ping_peer 10 # 10 x 128 bytes each way: past the 1000-byte budget

# quotas --reset: exit 3 before (spent), 0 after the reset, and the kernel's object at zero.
in_host quotas doc >/dev/null 2>&1
status=$?
[[ $status == 3 ]] || fail "a spent quota: exit $status, not 3"
output=$(in_host quotas doc --reset 2>&1)
status=$?
[[ $status == 0 ]] || fail "quotas --reset exited $status, not 0: $output"
grep -q "exhausted" <<<"$output" || fail "quotas --reset does not print what the quota held: $output"
in_host quotas doc >/dev/null 2>&1
status=$?
[[ $status == 0 ]] || fail "after --reset: exit $status, not 0"

# save says how many readings it booked and how many counted, never a sum of bytes: counters
# overlap (docs/periods.md). Booked: devices_in and devices_out, the peer and overflow each;
# none counted since `quotas --reset`, which booked the pings before it zeroed the quota.
output=$(in_host save doc 2>&1) || fail "save failed: $output"
[[ $output == "saved doc: 4 readings, 0 counted since the last save, at "*" in $work/state/"* ]] ||
    fail "save's line: $output"

# report: the overflow is a host row of devices_in and devices_out, no counter of its own.
report=$(in_host report doc -x 2>&1)
grep -q "devices_in_overflow\|devices_out_overflow" <<<"$report" &&
    fail "report shows the overflow as a counter of its own: $report"
[[ $(grep -cE '^    overflow +0 +0' <<<"$report") == 2 ]] ||
    fail "report shows no host 'overflow' under each counter: $report"
in_host report doc --json | python3 -c '
import json, sys
period = json.load(sys.stdin)["policies"][0]["periods"][0]
counters = {c["name"]: c for f in period["families"] for c in f["counters"]}
assert set(counters) == {"devices_in", "devices_out"}, counters
for c in counters.values():
    hosts = {h["name"]: h for h in c["hosts"]}
    assert set(hosts) == {"198.18.97.2", "overflow"}, hosts
    assert hosts["198.18.97.2"]["packets"] == 10, hosts
' || fail "report --json: $(in_host report doc --json)"

# A policy neither applied nor ever saved (a typo) is an error, not an empty report.
output=$(in_host report no_such_policy 2>&1)
status=$?
[[ $status == 1 ]] && grep -q "policy no_such_policy has no totals in .* and is not applied" <<<"$output" ||
    fail "report of an unknown policy exited $status: $output"

# acctc-apply@.service applies with UMask=0077 and acctc-exporter.service serves as another
# user (DynamicUser, CAP_NET_ADMIN only): after `nft flush ruleset` that user must still learn
# that the policy was applied, and say it is not loaded (docs/recording.md: alert on
# acctc_policy_loaded == 0). Scraped with curl, also in the absolute form a proxy sends.
ip netns exec "$host" nft delete table inet acctc_doc_umask
as_exporter() {
    ip netns exec "$host" setpriv --reuid=65534 --regid=65534 --clear-groups \
        --inh-caps=+net_admin --ambient-caps=+net_admin "$acctc" "$@"
}
output=$(as_exporter counters 2>&1)
status=$?
[[ $status == 1 ]] && grep -q "policy doc_umask is not loaded" <<<"$output" ||
    fail "another user does not see that doc_umask was applied (exit $status): $output"
# Not through the function: $! must be serve's own pid (ip and setpriv exec it).
ip netns exec "$host" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin \
    --ambient-caps=+net_admin "$acctc" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
serve=$!
for _ in $(seq 50); do
    port=$(sed -n 's/.*listening on .*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
done
if [[ -z $port ]]; then
    fail "serve did not say where it listens: $(cat "$work/serve.log")"
else
    metrics=$(ip netns exec "$host" curl -sS --fail "http://127.0.0.1:$port/metrics")
    grep -qx 'acctc_policy_loaded{policy="doc_umask"} 0' <<<"$metrics" ||
        fail "serve as another user: no acctc_policy_loaded 0 for the flushed policy: $metrics"
    absolute=$(ip netns exec "$host" curl -sS -o /dev/null -w '%{http_code}' \
        --request-target "http://127.0.0.1:$port/metrics" "http://127.0.0.1:$port/")
    [[ $absolute == 200 ]] || fail "GET http://127.0.0.1:$port/metrics (absolute form): $absolute, not 200"
fi
kill "$serve" 2>/dev/null
wait "$serve" 2>/dev/null

finish
echo "all passed"
