# Sourced by the kernel tests of per-host counters in BPF, with the test's arguments (ACCTC
# first): runs the test again in a private mount namespace, where its own bpffs is mounted at
# $ACCTC_BPF_ROOT (under $work) and nothing is pinned in the host's /sys/fs/bpf; then
# netns_test_lib.sh (acctc, work, namespaces, the cleanup), where fail ends the test.
if [[ -z ${ACCTC_BPF_TEST_PRIVATE:-} ]]; then
    ACCTC_BPF_TEST_PRIVATE=1 exec unshare -m --propagation private "$0" "$@"
fi
source "$(dirname "${BASH_SOURCE[0]}")/netns_test_lib.sh" "$@"
fail_fast=1
export ACCTC_BPF_ROOT=$work/bpffs ACCTC_STATE_DIR=$work/state
mkdir -p "$ACCTC_BPF_ROOT"
mount -t bpf -o mode=0700 bpf "$ACCTC_BPF_ROOT" # acctc mounts none itself
mounts+=("$ACCTC_BPF_ROOT")
# A router between two namespaces: $router's lan0 and wan0 are veths to eth0 of $lan and $wan,
# every link up, forwarding on, no duplicate address detection (addresses are usable at once).
# The test adds the addresses and routes. Sets router, lan and wan.
router_between_lan_and_wan() { # TAG
    router=$1-r lan=$1-l wan=$1-w
    add_namespace "$router"
    add_namespace "$lan"
    add_namespace "$wan"
    ip -n "$router" link add lan0 type veth peer name eth0 netns "$lan"
    ip -n "$router" link add wan0 type veth peer name eth0 netns "$wan"
    ip -n "$router" link set lan0 up
    ip -n "$router" link set wan0 up
    ip -n "$lan" link set eth0 up
    ip -n "$wan" link set eth0 up
    ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}
mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; } # NAMESPACE DEVICE
