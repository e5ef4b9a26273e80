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
# The addresses most of these tests use, after router_between_lan_and_wan: the router 198.18.1.1
# and 2001:db8:1::1 on lan0, 198.18.2.1 and 2001:db8:2::1 on wan0; the WAN host 198.18.2.2 and
# 2001:db8:2::2; the LAN host each address given (of 198.18.1.0/24 or 2001:db8:1::/64); default
# routes through the router; and every neighbour known up front, so that no solicitation crosses
# a link besides the test's own packets.
router_addresses() { # LAN_ADDRESS...
    ip -n "$router" addr add 198.18.1.1/24 dev lan0
    ip -n "$router" addr add 2001:db8:1::1/64 dev lan0 nodad
    ip -n "$router" addr add 198.18.2.1/24 dev wan0
    ip -n "$router" addr add 2001:db8:2::1/64 dev wan0 nodad
    ip -n "$wan" addr add 198.18.2.2/24 dev eth0
    ip -n "$wan" addr add 2001:db8:2::2/64 dev eth0 nodad
    local a lan_mac router_lan_mac router_wan_mac wan_mac
    lan_mac=$(mac "$lan" eth0) wan_mac=$(mac "$wan" eth0)
    router_lan_mac=$(mac "$router" lan0) router_wan_mac=$(mac "$router" wan0)
    for a in "$@"; do
        if [[ $a == *:* ]]; then
            ip -n "$lan" addr add "$a/64" dev eth0 nodad
        else
            ip -n "$lan" addr add "$a/24" dev eth0
        fi
        ip -n "$router" neigh replace "$a" lladdr "$lan_mac" dev lan0 nud permanent
    done
    ip -n "$lan" route add default via 198.18.1.1
    ip -n "$lan" -6 route add default via 2001:db8:1::1
    ip -n "$wan" route add default via 198.18.2.1
    ip -n "$wan" -6 route add default via 2001:db8:2::1
    for a in 198.18.1.1 2001:db8:1::1; do
        ip -n "$lan" neigh replace "$a" lladdr "$router_lan_mac" dev eth0 nud permanent
    done
    for a in 198.18.2.1 2001:db8:2::1; do
        ip -n "$wan" neigh replace "$a" lladdr "$router_wan_mac" dev eth0 nud permanent
    done
    for a in 198.18.2.2 2001:db8:2::2; do
        ip -n "$router" neigh replace "$a" lladdr "$wan_mac" dev wan0 nud permanent
    done
}
