#!/usr/bin/env bash
# Per-host counters on the iptables backends, with real packets in namespaces:
# - `--hosts-in bpf` is an error there (they count per host only in ipsets): exit 1, nothing
#   applied; `--hosts-in auto` a notice, then ipsets (docs/runtime.md, "Per-host counters in BPF");
#   iptables_hosts_test.sh ACCTC
set -u
acctc=$(realpath "$1")
host=acctc-iph-host-$$
peer=acctc-iph-peer-$$
work=$(mktemp -d /tmp/acctc-iptables-hosts-XXXXXX)
failures=0
cleanup() {
    ip netns del "$host" 2>/dev/null
    ip netns del "$peer" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

ip netns add "$host" || exit 1
ip netns add "$peer" || exit 1
ip link add veth0 netns "$host" type veth peer name veth0 netns "$peer" || exit 1
for ns in "$host" "$peer"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set veth0 up
done
ip -n "$host" addr add 198.18.97.1/24 dev veth0
ip -n "$peer" addr add 198.18.97.2/24 dev veth0
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

for variant in iptables-nft iptables-legacy; do
    output=$(acctc_h apply --backend "$variant" --hosts-in auto "$work/iph.acct" 2>&1)
    [[ $? == 0 && $output == *"notice: per-host counter devices counts in ipsets"* ]] ||
        fail "$variant --hosts-in auto: $output"
    ip netns exec "$peer" ping -n -q -c 3 -i 0.01 198.18.97.1 >/dev/null || fail "ping failed"
    output=$(acctc_h counters --backend "$variant" iph --host 198.18.97.2 -x 2>&1)
    [[ $output =~ 198\.18\.97\.2\ +3\  ]] || fail "$variant: the peer's 3 pings: $output"
    acctc_h remove --backend "$variant" iph >/dev/null 2>&1 || fail "remove with $variant"
done

((failures == 0)) || exit 1
echo "ok: --hosts-in bpf refused and auto noted on both iptables variants"
