#!/usr/bin/env bash
# Stale BPF pins (docs/runtime.md, "Per-host counters in BPF"): a network namespace deleted
# without `acctc remove` leaves <root>/acctc/<cookie>/ behind; the next apply, remove or counters
# in any namespace removes it. Kept: the calling namespace's, a live namespace's (links
# attached), a live namespace whose device went (links detached: alive through its /run/netns
# mount, through a bind mount elsewhere after `ip netns del`, or through a process in it), and
# whatever else is in the bpffs. Once the last of them goes, its pins go too.
# Private mount namespace and bpffs (ACCTC_BPF_ROOT).
#   bpf_stale_pins_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
tag=bpfsp$$
gone=$tag-gone live=$tag-live nodev=$tag-nodev mounted=$tag-mnt held=$tag-held

cat >"$work/stale.acct" <<'POLICY'
policy stale
interface lan = d0
counter sent { in via lan; split host source }
POLICY
# Applies the policy in NS and prints its new pin directory.
declare -A dir
for ns in "$gone" "$live" "$nodev" "$mounted" "$held"; do
    add_namespace "$ns"
    ip -n "$ns" link add d0 type veth peer name d1
    ip -n "$ns" link set d0 up && ip -n "$ns" link set d1 up
    before=$(ls "$ACCTC_BPF_ROOT/acctc" 2>/dev/null)
    "$acctc" apply --hosts-in bpf --netns "$ns" "$work/stale.acct" >/dev/null 2>&1 ||
        fail "apply in $ns failed"
    dir[$ns]=$(comm -13 <(echo "$before") <(ls "$ACCTC_BPF_ROOT/acctc"))
    [[ -n ${dir[$ns]} && -d $ACCTC_BPF_ROOT/acctc/${dir[$ns]}/stale/sent ]] || fail "no pins of $ns"
done
mkdir "$ACCTC_BPF_ROOT/othertool" "$ACCTC_BPF_ROOT/acctc/notacookie"

# Alive without their device: a /run/netns mount; a bind mount elsewhere; a process.
for ns in "$nodev" "$mounted" "$held"; do ip -n "$ns" link del d0; done
touch "$work/mounted"
mount --bind "/run/netns/$mounted" "$work/mounted"
mounts+=("$work/mounted")
ip netns exec "$held" sleep 60 &
holder=$!
on_exit() { kill "$holder" 2>/dev/null; }
sleep 0.5
ip netns del "$mounted"
ip netns del "$held"
ip netns del "$gone"

exists() { [[ -d $ACCTC_BPF_ROOT/acctc/${dir[$1]} ]]; }
# The deleted namespace's devices go asynchronously (its links detach then): wait for them.
for _ in $(seq 50); do
    "$acctc" counters --netns "$live" stale >/dev/null 2>&1 || fail "counters failed"
    exists "$gone" || break
    sleep 0.1
done
exists "$gone" && fail "the deleted namespace's pins are still there"
for ns in "$live" "$nodev" "$mounted" "$held"; do
    exists "$ns" || fail "the pins of $ns, alive, were removed"
done
[[ -d $ACCTC_BPF_ROOT/othertool && -d $ACCTC_BPF_ROOT/acctc/notacookie ]] ||
    fail "something not a namespace's pins was removed"
# Counting goes on in the live namespace.
[[ -e $ACCTC_BPF_ROOT/acctc/${dir[$live]}/stale/sent/link ]] || fail "the live namespace's link went"

# The bind mount and the process go: so do their namespaces' pins (at an apply, a remove).
umount "$work/mounted"
kill "$holder"; wait "$holder" 2>/dev/null
for _ in $(seq 50); do
    "$acctc" apply --hosts-in bpf --netns "$live" "$work/stale.acct" >/dev/null 2>&1 || fail "apply failed"
    exists "$mounted" || exists "$held" || break
    sleep 0.1
done
exists "$mounted" && fail "the pins of $mounted stayed after its last mount went"
exists "$held" && fail "the pins of $held stayed after its last process went"
exists "$nodev" || fail "the pins of $nodev, alive, were removed"
"$acctc" remove --netns "$live" stale >/dev/null 2>&1 || fail "remove failed"
exists "$live" && fail "remove left the live namespace's pins"
exists "$nodev" || fail "the pins of $nodev, alive, were removed by remove"
echo "ok: a deleted namespace's pins removed at the next counters/apply; live namespaces' (with or without their device, through a mount or a process) and other pins kept"
