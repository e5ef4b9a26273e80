#!/usr/bin/env bash
# Per-host counters on the iptables backends, with real packets in namespaces:
# - `--hosts-in bpf` is an error there (they count per host only in ipsets): exit 1, nothing
#   applied; `--hosts-in auto` a notice, then ipsets (docs/runtime.md, "Per-host counters in BPF");
# - ipsets (and nfacct objects) are one per namespace, not per iptables variant: applying a
#   policy with such sets with iptables-legacy while iptables-nft holds it (and back) is refused,
#   naming the conflict, and changes nothing; the first variant's per-host counts stay exact
#   and its remove destroys the sets (docs/iptables.md, "What acctc owns"); where both hold it
#   (left by an older acctc), removing one keeps the sets for the other.
#   iptables_hosts_test.sh ACCTC
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
host=acctc-iph-host-$$
peer=acctc-iph-peer-$$
make_veth_pair "$host" "$peer"
address_pair "$host" "$peer" 198.18.97
acctc_h() { "$acctc" "$1" --netns "$host" "${@:2}"; }
# What acctc owns in the namespace: its chains in both variants and its ipsets.
owned() {
    ip netns exec "$host" sh -c 'iptables-nft-save -t filter 2>/dev/null; iptables-legacy-save -t filter 2>/dev/null;
        ipset list -n' | grep -E '^:acctc-|^acctc-' | sort
}

cat >"$work/iph.acct" <<'POLICY'
policy iph
interface lan = veth0
counter devices { in via lan; split host source }
POLICY

for variant in iptables-nft iptables-legacy; do
    output=$(acctc_h apply --backend "$variant" --hosts-in bpf "$work/iph.acct" 2>&1)
    status=$?
    [[ $status == 1 && $output == *"--hosts-in bpf: cannot count devices in BPF: the $variant backend counts per host only in ipsets"* ]] ||
        fail "$variant --hosts-in bpf exited $status: $output"
    [[ -z $(owned) ]] || fail "$variant --hosts-in bpf applied something: $(owned)"
done

# auto: a notice, then ipsets; then the other variant is refused and changes nothing.
for first in iptables-nft iptables-legacy; do
    second=$([[ $first == iptables-nft ]] && echo iptables-legacy || echo iptables-nft)
    output=$(acctc_h apply --backend "$first" --hosts-in auto "$work/iph.acct" 2>&1)
    [[ $? == 0 && $output == *"notice: per-host counter devices counts in ipsets"* ]] ||
        fail "$first --hosts-in auto: $output"
    before=$(owned)
    output=$(acctc_h apply --backend "$second" "$work/iph.acct" 2>&1)
    status=$?
    [[ $status != 0 && $output == *"policy iph is applied here with $first; its ipsets and nfacct objects (acctc-iph-*) exist once per network namespace"* ]] ||
        fail "apply with $second after $first exited $status: $output"
    [[ $(owned) == "$before" ]] || fail "the refused $second apply changed: $(owned)"
    ip netns exec "$peer" ping -n -q -c 3 -i 0.01 198.18.97.1 >/dev/null || fail "ping failed"
    output=$(acctc_h counters --backend "$first" iph --host 198.18.97.2 -x 2>&1)
    [[ $output =~ 198\.18\.97\.2\ +3\  ]] || fail "$first: the peer's 3 pings, once: $output"
    output=$(acctc_h remove --backend "$second" iph 2>&1)
    [[ $? != 0 && $output == *"not applied here"* ]] || fail "remove with $second: $output"
    output=$(acctc_h remove --backend "$first" iph 2>&1)
    [[ $? == 0 ]] || fail "remove with $first: $output"
    [[ -z $(owned) ]] || fail "left after removing with $first: $(owned)"
done

# Both variants holding the policy (as an acctc before the refusal left it, here made by
# loading the compiled text with iptables-legacy-restore): removing one keeps the shared sets
# the other's rules use, and fails in nothing; the second remove destroys them.
acctc_h apply --backend iptables-nft "$work/iph.acct" >/dev/null 2>&1 || fail "apply iptables-nft"
"$acctc" compile --backend iptables-legacy -o "$work/out" "$work/iph.acct" || fail "compile"
ip netns exec "$host" iptables-legacy-restore --noflush "$work/out.v4" || fail "legacy restore v4"
ip netns exec "$host" ip6tables-legacy-restore --noflush "$work/out.v6" || fail "legacy restore v6"
output=$(acctc_h remove --backend iptables-nft iph 2>&1)
[[ $? == 0 ]] || fail "remove iptables-nft beside iptables-legacy: $output"
[[ $(owned | grep -c '^acctc-iph-h-') == 2 ]] || fail "the shared sets went with the first remove: $(owned)"
output=$(acctc_h remove --backend iptables-legacy iph 2>&1)
[[ $? == 0 ]] || fail "remove iptables-legacy: $output"
[[ -z $(owned) ]] || fail "left after both removes: $(owned)"

finish
echo "ok: --hosts-in bpf refused and auto noted on both iptables variants; the same policy's ipsets are not shared between them"
