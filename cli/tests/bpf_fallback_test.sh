#!/usr/bin/env bash
# Per-host counters fall back to nft sets where BPF is unavailable (docs/runtime.md, "Per-host
# counters in BPF"): in a user namespace the kernel refuses what acctc needs for BPF (mounting a
# bpffs, loading a program: CAP_BPF counts only in the initial user namespace) while nftables
# works in the namespace's own network namespace. There, `acctc apply` (--hosts-in auto) says
# once that the counter counts in nft sets, and the sets count exactly what ping sent;
# `--hosts-in bpf` is an error that changes nothing; nothing is pinned.
#   bpf_fallback_test.sh ACCTC
set -u
if [[ -z ${ACCTC_BPF_FALLBACK_INSIDE:-} ]]; then
    # A user namespace with its own network and mount namespaces: uid 0 inside is root outside.
    ACCTC_BPF_FALLBACK_INSIDE=1 exec unshare --user --map-root-user --net --mount \
        --propagation private "$0" "$@"
fi
source "$(dirname "$0")/netns_test_lib.sh" "$@"
fail_fast=1
export ACCTC_BPF_ROOT=$work/bpffs ACCTC_STATE_DIR=$work/state
peer=
on_exit() { [[ -z $peer ]] || kill "$peer" 2>/dev/null; }

# This namespace is the router; the LAN host is a network namespace of its own, held by a
# sleeping process, behind a veth pair.
ip link set lo up
unshare --net sleep 300 &
peer=$!
sleep 0.2
in_peer() { nsenter --target "$peer" --net "$@"; }
ip link add lan0 type veth peer name eth0 netns "$peer" || fail "no veth pair"
ip addr add 198.18.1.1/24 dev lan0
ip link set lan0 up
in_peer ip link set lo up
in_peer ip addr add 198.18.1.10/24 dev eth0
in_peer ip link set eth0 up

cat >"$work/fallback.acct" <<'POLICY'
policy fallback
interface lan = lan0
counter sent { in via lan; split host source }
POLICY
"$acctc" apply --hosts-in bpf "$work/fallback.acct" >"$work/forced" 2>&1 &&
    fail "--hosts-in bpf succeeded where BPF is unavailable: $(cat "$work/forced")"
grep -q "cannot count sent in BPF here" "$work/forced" || fail "no reason given: $(cat "$work/forced")"
nft list table inet acctc_fallback >/dev/null 2>&1 && fail "the refused apply loaded a table"

"$acctc" apply --hosts-in auto "$work/fallback.acct" >"$work/out" 2>"$work/err" || fail "apply failed: $(cat "$work/err")"
[[ $(grep -c "notice: per-host counter sent counts in nft sets" "$work/err") == 1 ]] ||
    fail "not one notice: $(cat "$work/err")"
grep -qi "error" "$work/err" && fail "an error beside the notice: $(cat "$work/err")"
nft list table inet acctc_fallback | grep -q "set sent_hosts_v4" || fail "no nft set for sent"
[[ -z $(find "$work" -path "*bpffs*" -name link) ]] || fail "something was pinned"

sent=$(in_peer ping -n -q -c 4 -i 0.01 198.18.1.1 | awk '/transmitted/ { print $1 }')
[[ $sent == 4 ]] || fail "ping sent $sent"
got=$("$acctc" counters fallback --json |
    jq -r '[.counters[] | select(.counter == "sent" and .labels.host == "198.18.1.10")] |
           if length == 0 then "0 0" else "\(.[0].packets) \(.[0].bytes)" end')
[[ $got == "4 336" ]] || fail "sent host=198.18.1.10: $got, expected 4 336"
"$acctc" remove fallback >/dev/null || fail "remove failed"
echo "ok: BPF unavailable (user namespace): one notice, counted in nft sets = ping (4 packets); --hosts-in bpf refused"
