#!/usr/bin/env bash
# The BPF correction of merged packets of one policy on two backends (docs/runtime.md, "Merged
# packets corrected in BPF"): its pins are one per network namespace and policy, so a second
# backend applying the policy with a correction is refused, naming the remove to run, and
# changes nothing: the first backend's counters stay corrected (equal to the wire) through the
# refused apply and the second backend's remove, and its own remove leaves no pin. Pairs: nft
# then iptables-nft, iptables-legacy then iptables-nft (one kernel, two rule sets, the same
# pins). Before, the second apply took over the pins and its remove took them from the first:
# the first's counters fell back to merged packets (lower: booked whole again as after a reset).
# Private mount namespace, own bpffs.
#   bpf_wire_backends_test.sh ACCTC SET_OFFLOADS_PY
set -u
if [[ -z ${ACCTC_WIRE_TEST_PRIVATE:-} ]]; then
    ACCTC_WIRE_TEST_PRIVATE=1 exec unshare -m --propagation private "$0" "$@"
fi
acctc=$(realpath "$1")
offloads=$(realpath "$2")
tag=bpfb$$
host=$tag-h peer=$tag-p
work=$(mktemp -d /tmp/acctc-bpf-wire-backends-XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
export ACCTC_BPF_ROOT=$work/bpffs ACCTC_STATE_DIR=$work/state
cleanup() {
    for ns in "$host" "$peer"; do ip netns del "$ns" 2>/dev/null; done
    umount "$work/bpffs" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

for ns in "$host" "$peer"; do
    ip netns add "$ns" && ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$host" link add wan0 type veth peer name eth0 netns "$peer"
ip -n "$host" addr add 198.18.63.1/24 dev wan0
ip -n "$peer" addr add 198.18.63.2/24 dev eth0
ip netns exec "$host" python3 "$offloads" wan0 tso=0 gso=1 gro=1
ip netns exec "$peer" python3 "$offloads" eth0 tso=0 gso=1 gro=0
ip -n "$host" link set wan0 up
ip -n "$peer" link set eth0 up
mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }
ip -n "$host" neigh replace 198.18.63.2 lladdr "$(mac "$peer" eth0)" dev wan0 nud permanent
ip -n "$peer" neigh replace 198.18.63.1 lladdr "$(mac "$host" wan0)" dev eth0 nud permanent

cat >"$work/wire.acct" <<'POLICY'
policy wire
interface wan = wan0
counter line { via wan; split direction }
POLICY
acctc_h() { "$acctc" "$1" --netns "$host" "${@:2}"; }

source "$(dirname "$0")/wire_test_lib.sh" # bulk
# The wire as the peer saw it: "PACKETS BYTES" it received (the host's out, in L3 bytes: less
# the 14-byte Ethernet header per frame that veth counts on this side).
wire_out() {
    local d=/sys/class/net/eth0/statistics
    ip netns exec "$peer" sh -c "echo \$(cat $d/rx_packets) \$(( \$(cat $d/rx_bytes) - 14 * \$(cat $d/rx_packets) ))"
}
reading() { # BACKEND COUNTER: "PACKETS BYTES MERGED"
    acctc_h counters --backend "$1" wire --json |
        jq -r ".counters[] | select(.name == \"$2\") | \"\(.packets) \(.bytes) \(.merged)\""
}

port=7100
for pair in "nft iptables-nft" "iptables-legacy iptables-nft"; do
    read -r first second <<<"$pair"
    start=($(wire_out))
    out=$(acctc_h apply --backend "$first" "$work/wire.acct" 2>&1) || fail "$first: apply: $out"
    [[ $out == *"could not be attached"* ]] && fail "$first: no correction: $out"
    bulk 198.18.63.2 $((port++)) 60000 60000
    now=($(wire_out))
    expected="$((now[0] - start[0])) $((now[1] - start[1])) false"
    [[ $(reading "$first" line_out) == "$expected" ]] ||
        fail "$first: line_out $(reading "$first" line_out) != the wire's $expected"

    out=$(acctc_h apply --backend "$second" "$work/wire.acct" 2>&1)
    status=$?
    [[ $status == 1 && $out == *"policy wire is applied here with $first"* &&
        $out == *"acctc remove --backend $first wire"* ]] ||
        fail "$second after $first: exited $status, not refused naming the remove: $out"
    if [[ $status == 0 ]]; then
        bulk 198.18.63.2 $((port++)) 60000 60000
        acctc_h remove --backend "$second" wire >/dev/null 2>&1 || fail "$second: remove failed"
    fi
    [[ -z $(ip netns exec "$host" "${second}-save" -t filter 2>/dev/null | grep acctc-wire) ]] ||
        fail "$second: the refused apply left chains"
    bulk 198.18.63.2 $((port++)) 60000 60000
    now=($(wire_out))
    expected="$((now[0] - start[0])) $((now[1] - start[1])) false"
    [[ $(reading "$first" line_out) == "$expected" ]] ||
        fail "$first after $second's apply and remove: line_out $(reading "$first" line_out) != the wire's $expected"
    acctc_h remove --backend "$first" wire >/dev/null || fail "$first: remove failed"
    left=$(find "$ACCTC_BPF_ROOT" -mindepth 1 ! -name '*.debug' | wc -l)
    [[ $left == 0 ]] || fail "$first: remove left $left pinned objects: $(find "$ACCTC_BPF_ROOT")"
    echo "$first, then $second: done"
done
((failures == 0)) || exit 1
echo PASS
