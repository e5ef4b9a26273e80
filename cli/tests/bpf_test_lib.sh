# Sourced by the kernel tests of per-host counters in BPF, with the test's arguments (ACCTC
# first): runs the test again in a private mount namespace, where its own bpffs is mounted at
# $ACCTC_BPF_ROOT (under $work) and nothing is pinned in the host's /sys/fs/bpf. Sets acctc and
# work; deletes the network namespaces the test lists in `namespaces`, the bpffs and $work on
# exit. fail MESSAGE ends the test.
if [[ -z ${ACCTC_BPF_TEST_PRIVATE:-} ]]; then
    ACCTC_BPF_TEST_PRIVATE=1 exec unshare -m --propagation private "$0" "$@"
fi
acctc=$(realpath "$1")
work=$(mktemp -d /tmp/acctc-bpf-test-XXXXXX)
export ACCTC_BPF_ROOT=$work/bpffs ACCTC_STATE_DIR=$work/state
mkdir -p "$ACCTC_BPF_ROOT"
mount -t bpf -o mode=0700 bpf "$ACCTC_BPF_ROOT" # acctc mounts none itself
namespaces=()
cleanup() {
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    umount "$ACCTC_BPF_ROOT" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# A router between two namespaces: $router's lan0 and wan0 are veths to eth0 of $lan and $wan,
# every link up, forwarding on, no duplicate address detection (addresses are usable at once).
# The test adds the addresses and routes. Sets router, lan, wan and namespaces.
router_between_lan_and_wan() { # TAG
    router=$1-r lan=$1-l wan=$1-w
    namespaces=("$router" "$lan" "$wan")
    for ns in "${namespaces[@]}"; do
        ip netns add "$ns" && ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    done
    ip -n "$router" link add lan0 type veth peer name eth0 netns "$lan"
    ip -n "$router" link add wan0 type veth peer name eth0 netns "$wan"
    ip -n "$router" link set lan0 up
    ip -n "$router" link set wan0 up
    ip -n "$lan" link set eth0 up
    ip -n "$wan" link set eth0 up
    ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}
mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; } # NAMESPACE DEVICE
