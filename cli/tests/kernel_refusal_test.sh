#!/usr/bin/env bash
# A policy the compiler accepts and the kernel (or nft, or iptables-restore) refuses at apply:
# the error is positioned as a compile error is (file:line:col-col, the source line, carets
# under the statement), the exit status is 1 and nothing is applied. The refusal here: an owner
# cgroup that does not exist (nft resolves the path while loading; the compiler cannot know).
#   kernel_refusal_test.sh ACCTC
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
ns=acctc-refusal-$$
add_namespace "$ns"

cat >"$work/cg.acct" <<'POLICY'
policy cg
# the kernel refuses line 4, the compiler accepts it
counter web { tcp port 443 }
  counter svc { owner cgroup "system.slice/acctc-no-such-unit.service"; out }
POLICY
line4=$(sed -n 4p "$work/cg.acct")
carets='  '$(printf '%*s' $((${#line4} - 2)) '' | tr ' ' '^')
for backend in nft iptables-nft; do
    (cd "$work" && "$acctc" apply --netns "$ns" --backend "$backend" cg.acct >/dev/null 2>"$work/err")
    status=$?
    [[ $status == 1 ]] || fail "$backend: apply exited $status, not 1: $(cat "$work/err")"
    # The error and the two lines after it (the compiler's warnings about the output hook aside).
    output=$(grep -A2 ': error: ' "$work/err")
    # The positioned error, the source line as it is, carets under the statement (cols 3-end).
    expected_head="cg.acct:4:3-${#line4}: error: "
    [[ $(head -1 <<<"$output") == "$expected_head"* ]] || fail "$backend: no $expected_head: $output"
    [[ $(sed -n 2p <<<"$output") == "$line4" ]] || fail "$backend: source line: $output"
    [[ $(sed -n 3p <<<"$output") == "$carets" ]] || fail "$backend: carets: $output"
    tables=$(ip netns exec "$ns" sh -c 'nft list ruleset; iptables-legacy-save; ip6tables-legacy-save' 2>/dev/null |
        grep -c acctc)
    [[ $tables == 0 ]] || fail "$backend: something was applied"
done

# iptables-legacy's restore fails at COMMIT without saying which rule: no line to point at, but
# the same exit status and nothing applied.
(cd "$work" && "$acctc" apply --netns "$ns" --backend iptables-legacy cg.acct >/dev/null 2>"$work/err")
[[ $? == 1 ]] || fail "iptables-legacy: apply did not exit 1: $(cat "$work/err")"
grep -q 'does not say which' "$work/err" || fail "iptables-legacy: $(cat "$work/err")"
[[ $(ip netns exec "$ns" iptables-legacy-save 2>/dev/null | grep -c acctc) == 0 ]] ||
    fail "iptables-legacy: something was applied"

finish
echo "ok: kernel refusals positioned with source line and carets on nft and iptables-nft; nothing applied (iptables-legacy too)"
