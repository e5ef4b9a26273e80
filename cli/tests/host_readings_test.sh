#!/usr/bin/env bash
# Per-host counters as an independent tester checks them, with real packets in namespaces (pings
# over a veth pair to a peer namespace):
# - `acctc diff --live` right after apply exits 0 also once hosts have sent packets: the host
#   sets' elements are state the packet path fills, not drift (docs/runtime.md, "acctc diff");
# - `acctc counters POLICY NOSUCH` lists each counter once in its error, not once per host;
# - a policy as applied is named NAME.acct too, as acctc(1) says of every POLICY argument;
# - --host where no counter counts per host is an error, a host without a reading yet a note.
#   host_readings_test.sh ACCTC
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
host=acctc-hr-host-$$
peer=acctc-hr-peer-$$
mkdir "$work/empty" # a directory without policy files
make_veth_pair "$host" "$peer"
ip -n "$host" addr add 198.18.98.1/24 dev veth0
ip -n "$host" addr add 2001:db8:98::1/64 dev veth0 nodad
ip -n "$peer" addr add 198.18.98.2/24 dev veth0
ip -n "$peer" addr add 2001:db8:98::2/64 dev veth0 nodad
acctc_h() { "$acctc" "$1" --netns "$host" "${@:2}"; }

cat >"$work/hr.acct" <<'POLICY'
policy hr
interface wan = veth0
network home = 198.18.0.0/16, 2001:db8::/32
counter devices { via wan; split host remote within home; split direction }
POLICY
acctc_h apply "$work/hr.acct" >/dev/null 2>&1 || fail "apply failed"
ip netns exec "$host" ping -n -q -c 3 -i 0.01 198.18.98.2 >/dev/null || fail "ping failed"
ip netns exec "$host" ping -n -q -c 2 -i 0.01 2001:db8:98::2 >/dev/null || fail "ping -6 failed"
ip netns exec "$host" nft list table inet acctc_hr | grep -q '198.18.98.2 counter packets 3' ||
    fail "the host set holds no element for the peer: $(ip netns exec "$host" nft list table inet acctc_hr)"

# diff --live: the elements are data; the policy is what was applied.
output=$(acctc_h diff --live "$work/hr.acct" 2>&1)
status=$?
[[ $status == 0 ]] || fail "diff --live after traffic exited $status, not 0: $output"

# An unknown COUNTER: the error names devices_in and devices_out once each (two hosts each).
output=$(acctc_h counters hr nosuch 2>&1)
status=$?
[[ $status == 1 ]] || fail "counters hr nosuch exited $status, not 1"
[[ $output == *"(counters: devices_in, devices_in_overflow, devices_out, devices_out_overflow)"* ]] ||
    fail "counters hr nosuch: $output"

# A policy as applied by its NAME.acct (acctc(1): NAME may end in .acct), no such file here.
output=$(cd "$work/empty" && "$acctc" counters --netns "$host" hr.acct -x 2>&1)
[[ $? == 0 && $output == *"198.18.98.2"* ]] || fail "counters hr.acct: $output"

# --host: a host without a reading yet is a note (exit 0); where no counter counts per host it
# selects nothing ever: an error (exit 1), as a COUNTER that matches nothing is.
output=$(acctc_h counters hr --host 198.18.98.7 2>&1)
[[ $? == 0 && $output == *"note: no per-host counter has a reading of 198.18.98.7"* ]] ||
    fail "counters hr --host 198.18.98.7 (no reading yet): $output"
output=$(acctc_h counters hr --host 198.18.98.2 -x 2>&1)
[[ $? == 0 && $output == *"198.18.98.2"* && $output != *note* ]] || fail "counters --host 198.18.98.2: $output"
printf 'policy flat\ncounter web { tcp port 443 }\n' >"$work/flat.acct"
acctc_h apply "$work/flat.acct" >/dev/null 2>&1 || fail "apply flat failed"
output=$(acctc_h counters flat --host 198.18.98.2 2>&1)
status=$?
[[ $status == 1 && $output == *"--host 198.18.98.2: no counter of policy flat counts per host"* ]] ||
    fail "counters flat --host exited $status: $output"
output=$(acctc_h counters hr devices_in_overflow --host 198.18.98.2 2>&1)
[[ $? == 0 ]] || fail "counters hr devices_in_overflow --host (an overflow counter is per host): $output"
acctc_h remove flat >/dev/null 2>&1 || fail "remove flat failed"

acctc_h remove hr.acct >/dev/null 2>&1 || fail "remove hr.acct failed"
finish
echo "ok: diff --live after traffic, an unknown counter's error names each counter once, NAME.acct names a policy as applied"
