#!/usr/bin/env bash
# An apply killed between the two steps of a new table with counting sets (docs/runtime.md, "A
# new table with counting sets loads in two steps"), the kill injected with
# ACCTC_TEST_KILL_BETWEEN_STEPS (SIGKILL right after the first step): the table is there with
# empty base chains and counts nothing, and no command reads it as counters or quotas at zero.
# `acctc counters` (every policy, by name), `save` and `quotas` (every policy, by name, --json,
# --watch of it) exit 1 saying the policy counts nothing, and `quotas` lists none of its quotas;
# a watch of every policy (`counters --watch`, `quotas --watch`) says so and goes on; the next apply says it loads the table anew, and then counts every datagram sent in
# its class; `remove` of such a table deletes it.
#   unfinished_apply_test.sh ACCTC
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
ns=acctc-unfinished-$$
add_namespace "$ns"
export ACCTC_STATE_DIR=$work/state

# 4,200 single ports: a classification counted by counting sets (docs/language.md, "Large
# classifications: element counters"), so a new table loads in two steps.
{
    echo "policy unf"
    echo "classify svc local out include loopback {"
    for ((i = 0; i < 4200; i++)); do echo "    c$i: udp dport $((20000 + i))"; done
    echo "    otherwise: rest"
    echo "}"
    echo "counter line { out; include loopback }"
    echo "quota cap { on line; 1 MB per day }"
} >"$work/unf.acct"
acctc_n() { "$acctc" "$1" --netns "$ns" "${@:2}"; }
send() { # send N: N datagrams to 127.0.0.1 port 20007 (class c7)
    ip netns exec "$ns" bash -c 'for ((i = 0; i < $1; i++)); do echo x >/dev/udp/127.0.0.1/20007; done' _ "$1"
}
c7_packets() {
    acctc_n counters unf --json | jq -r '[.counters[] | select(.name == "svc_c7")][0].packets'
}
fill_chains() { ip netns exec "$ns" nft list table inet acctc_unf 2>/dev/null | grep -cE 'chain [^ ]+\.fill'; }
killed_apply() {
    ACCTC_TEST_KILL_BETWEEN_STEPS=1 acctc_n apply "$work/unf.acct" >/dev/null 2>&1
    local status=$?
    [[ $status == 137 ]] || fail "the apply to kill exited $status, not 137 (SIGKILL)"
    ip netns exec "$ns" nft list table inet acctc_unf >/dev/null 2>&1 || fail "no table after the kill"
    [[ $(fill_chains) -gt 0 ]] || fail "the table after the kill has no .fill chain"
}
says_counts_nothing() { # COMMAND...: exit 1 and the message
    local output status
    output=$(acctc_n "$@" 2>&1)
    status=$?
    [[ $status == 1 && $output == *"policy unf counts nothing in network namespace $ns: its apply stopped between its two steps"* ]] ||
        fail "$* exited $status: $output"
}

killed_apply
send 5 # counted nowhere: the base chains are empty
says_counts_nothing counters
says_counts_nothing counters unf
says_counts_nothing save
says_counts_nothing quotas
says_counts_nothing quotas unf
says_counts_nothing quotas --json
[[ $(acctc_n quotas --json 2>/dev/null | jq '.quotas | length') == 0 ]] ||
    fail "quotas listed the half-loaded table's: $(acctc_n quotas --json 2>/dev/null)"
# Watching the policy by name: nothing to watch, the watcher stops at start (one that never
# stopped would be ended by the timeout: 124). Watching every policy: it says so and watches on.
output=$(timeout 10 "$acctc" quotas --netns "$ns" --watch unf 2>&1)
status=$?
[[ $status == 1 && $output == *"policy unf counts nothing in network namespace $ns: its apply stopped between its two steps"* ]] ||
    fail "quotas --watch unf exited $status: $output"
output=$(timeout 3 "$acctc" quotas --netns "$ns" --watch 2>&1)
status=$?
[[ $status == 124 && $output == *"policy unf counts nothing in network namespace $ns: its apply stopped between its two steps"*"its quotas are not watched until then"* ]] ||
    fail "quotas --watch exited $status: $output"
# A watch of every policy's counters says it too, and goes on.
output=$(timeout 3 "$acctc" counters --netns "$ns" --watch 1 2>&1 >/dev/null)
status=$?
[[ $status == 124 && $output == *"policy unf counts nothing in network namespace $ns: its apply stopped between its two steps"* ]] ||
    fail "counters --watch exited $status: $output"

output=$(acctc_n apply "$work/unf.acct" 2>&1)
[[ $? == 0 && $output == *"note: an earlier apply of policy unf stopped between its two steps and left its table counting nothing; loaded anew"* ]] ||
    fail "the apply after the kill: $output"
[[ $(fill_chains) == 0 ]] || fail "the apply after the kill left .fill chains"
send 5
[[ $(c7_packets) == 5 ]] || fail "c7 counted $(c7_packets) of the 5 datagrams sent after the apply"
acctc_n counters >/dev/null 2>&1 || fail "counters after the repairing apply exited $?"
# Saved: 4,200 classes, rest and line; counted, c7, rest (the port-unreachable errors, ICMP)
# and line (both).
output=$(acctc_n save 2>&1) || fail "save after the repairing apply exited $?: $output"
[[ $output == "saved unf: 4202 readings, 3 counted since the last save, at "* ]] || fail "save: $output"
output=$(acctc_n quotas --json 2>&1) || fail "quotas after the repairing apply exited $?: $output"
[[ $(jq -r '[.quotas[].quota] | join(",")' <<<"$output") == cap ]] || fail "quotas after the repairing apply: $output"

# remove of a half-loaded table deletes it.
acctc_n remove unf >/dev/null 2>&1 || fail "remove failed"
killed_apply
output=$(acctc_n remove unf 2>&1) || fail "remove of the half-loaded table exited $?: $output"
[[ -z $(ip netns exec "$ns" nft list tables) ]] || fail "remove left: $(ip netns exec "$ns" nft list tables)"

finish
echo "ok: a killed apply's table says it counts nothing (counters, save, quotas); the next apply loads it anew and counts; remove deletes it"
