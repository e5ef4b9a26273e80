# Sourced first by the kernel tests, with the test's arguments (ACCTC first). Sets acctc, work (a
# new directory), failures and the lists the cleanup empties: `namespaces` (deleted) and `mounts`
# (unmounted, last first). The cleanup runs on every exit, also on an interrupt or a failure:
# the test's own on_exit function first if it defines one (its background processes), then the
# namespaces, the mounts and $work.
#   fail MESSAGE    a failure: counted, and the test goes on; with fail_fast=1, it ends the test
#   finish          ends the test: exit 1 after any failure
#   add_namespace NAME             a namespace with lo up, IPv6 addresses usable at once (no DAD)
#   make_veth_pair [--no-ipv6] HOST PEER   two namespaces joined by veth0 in each, up;
#                   --no-ipv6: IPv6 off before the links come up (none of its packets counted)
acctc=$(realpath "$1")
work=$(mktemp -d "/tmp/acctc-$(basename "$0" .sh)-XXXXXX")
failures=0
namespaces=()
mounts=()
cleanup() {
    declare -F on_exit >/dev/null && on_exit
    local ns i
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
# A signal ends the test through exit, so the EXIT trap cleans up.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
    [[ -z ${fail_fast:-} ]] || exit 1
}
finish() { ((failures == 0)) || exit 1; }

add_namespace() { # add_namespace NAME
    namespaces+=("$1")
    ip netns add "$1" || exit 1
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

address_pair() { # address_pair HOST PEER 198.18.N: HOST's veth0 198.18.N.1/24, PEER's .2/24
    ip -n "$1" addr add "$3.1/24" dev veth0
    ip -n "$2" addr add "$3.2/24" dev veth0
}

make_veth_pair() { # make_veth_pair [--no-ipv6] HOST PEER
    local no_ipv6=
    [[ $1 == --no-ipv6 ]] && no_ipv6=1 && shift
    add_namespace "$1"
    add_namespace "$2"
    ip link add veth0 netns "$1" type veth peer name veth0 netns "$2" || exit 1
    local ns
    for ns in "$1" "$2"; do
        [[ -z $no_ipv6 ]] || ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set veth0 up
    done
}
