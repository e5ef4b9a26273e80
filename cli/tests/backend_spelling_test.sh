#!/usr/bin/env bash
# `--backend iptables` is the variant installed (iptables-nft or iptables-legacy, as
# `iptables-restore -V` says), and acctc records a policy applied with it as applied with that
# variant: one record per policy and backend the kernel holds it in, so `remove` with either
# spelling removes the chains and the record, and every command after finds it. Messages name
# what the user typed and what it is ("iptables (iptables-nft)"; docs/iptables.md, "Runtime").
#   backend_spelling_test.sh ACCTC
set -u
source "$(dirname "$0")/netns_test_lib.sh" "$@"
host=acctc-bsp-host-$$
peer=acctc-bsp-peer-$$
make_veth_pair "$host" "$peer"
address_pair "$host" "$peer" 198.18.98
acctc_h() { "$acctc" "$1" --netns "$host" "${@:2}"; }
case $(iptables-restore -V) in
*"(nf_tables)"*) variant=iptables-nft other=iptables-legacy ;;
*"(legacy)"*) variant=iptables-legacy other=iptables-nft ;;
*) echo "skip: iptables-restore -V names no variant"; exit 0 ;;
esac
# The namespace's records (applied_policies.hpp: keyed by its SO_NETNS_COOKIE), gone with it.
cookie=$(ip netns exec "$host" python3 -c 'import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])') || exit 1
directory=/run/acctc/applied/netns-$cookie
on_exit() { rm -rf "$directory"; }
records() { find "$directory" -path "*/$1" 2>/dev/null | sort; }

cat >"$work/bspell.acct" <<'POLICY'
policy bspell
interface lan = veth0
counter inbound { in via lan }
POLICY
cat >"$work/bsphosts.acct" <<'POLICY'
policy bsphosts
interface lan = veth0
counter devices { in via lan; split host source }
POLICY

# Applied with one spelling, removed with the other: no record is left, and the next apply
# warns of no other backend.
for spellings in "iptables $variant" "$variant iptables"; do
    read -r applied removed <<<"$spellings"
    output=$(acctc_h apply --backend "$applied" "$work/bspell.acct" 2>&1)
    [[ $? == 0 ]] || fail "apply --backend $applied: $output"
    [[ $(records bspell) == */$variant/bspell ]] || fail "applied with $applied, recorded as: $(records bspell)"
    ip netns exec "$peer" ping -n -q -c 2 -i 0.01 198.18.98.1 >/dev/null || fail "ping failed"
    output=$(acctc_h counters bspell -x 2>&1)
    [[ $? == 0 && $output =~ inbound\ +2\  ]] || fail "counters without --backend after $applied: $output"
    output=$(acctc_h remove --backend "$removed" bspell 2>&1)
    [[ $? == 0 && $output == *"removed iptables chains"* ]] || fail "remove --backend $removed after $applied: $output"
    [[ -z $(records bspell) ]] || fail "applied with $applied, removed with $removed, left: $(records bspell)"
    output=$(acctc_h counters 2>&1)
    [[ $output != *bspell* ]] || fail "after the remove, counters still expects bspell: $output"
done

# Chains flushed behind acctc's back: the message names what the user typed and what it is;
# remove with the variant's name drops the expectation.
acctc_h apply --backend iptables "$work/bspell.acct" >/dev/null 2>&1 || fail "apply --backend iptables"
for tool in "$variant" "${variant/iptables/ip6tables}"; do
    ip netns exec "$host" "$tool" -F && ip netns exec "$host" "$tool" -X || fail "$tool -F, -X"
done
output=$(acctc_h counters 2>&1)
[[ $output == *"policy bspell is not loaded in network namespace $host: acctc applied it here with --backend iptables ($variant), and its chains are gone"*"acctc remove --backend $variant bspell"* ]] ||
    fail "counters after the flush: $output"
output=$(acctc_h remove --backend "$variant" bspell 2>&1)
[[ $? == 0 && $output == *"no longer expects it"* ]] || fail "remove of the flushed policy: $output"
[[ -z $(records bspell) ]] || fail "the flushed policy's record is left: $(records bspell)"

# A record from before records were resolved (under `iptables`) is the variant's record too.
mkdir -p "$directory/iptables" && touch "$directory/iptables/bspell"
output=$(acctc_h counters 2>&1)
[[ $output == *"applied it here with --backend iptables ($variant)"* ]] || fail "an old record: $output"
output=$(acctc_h remove --backend "$variant" bspell 2>&1)
[[ $? == 0 && $output == *"no longer expects it"* && -z $(records bspell) ]] ||
    fail "remove of an old record with --backend $variant: $output; left: $(records bspell)"

# Refusals name the other backend as it was given and the command that removes it; that
# command removes the record too.
acctc_h apply --backend iptables "$work/bsphosts.acct" >/dev/null 2>&1 || fail "apply hosts with iptables"
output=$(acctc_h apply --backend "$other" "$work/bsphosts.acct" 2>&1)
[[ $? != 0 && $output == *"policy bsphosts is applied here with iptables ($variant); its ipsets"*"remove it there first (acctc remove --backend $variant bsphosts)"* ]] ||
    fail "apply with $other after iptables: $output"
acctc_h apply --backend iptables "$work/bspell.acct" >/dev/null 2>&1 || fail "apply bspell with iptables"
output=$(acctc_h apply --backend nft "$work/bspell.acct" 2>&1)
[[ $output == *"policy bspell was also applied in network namespace $host with iptables ($variant): both count every packet"*"acctc remove --backend $variant bspell"* ]] ||
    fail "the warning of a second backend: $output"
output=$(acctc_h remove bspell 2>&1)
[[ $? != 0 && $output == *"was applied in network namespace $host with nft, iptables ($variant): say which with --backend"* ]] ||
    fail "remove without --backend of a policy on two backends: $output"
for policy in bspell bsphosts; do
    acctc_h remove --backend "$variant" "$policy" >/dev/null 2>&1 || fail "remove $policy with $variant"
done
acctc_h remove --backend nft bspell >/dev/null 2>&1 || fail "remove bspell with nft"
[[ -z $(records bspell) && -z $(records bsphosts) ]] || fail "left: $(records bspell) $(records bsphosts)"

finish
echo "ok: --backend iptables and --backend $variant are one record; messages name both"
