#!/bin/bash
# Measures what a tc BPF program can count of TCP through segmentation offload and GRO
# (docs/counting.md, "Segmentation offload and GRO in detail"): a sender and a receiver
# namespace over a veth pair, the sender's end with GSO on and TSO off (the link carries
# MSS-sized segments, as a real card's would), the receiver's with GRO on; WRITES writes of
# SIZE bytes; nft counters at output and input, gso_segs.c at the sender's egress and the
# receiver's ingress, the veth statistics. Needs clang and libbpf-dev; runs as root in its own
# mount namespace (bpffs) and network namespaces, removed on exit.
#   scripts/wire/measure_gso_segs.sh [WRITES] [SIZE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${ACCTC_GSO_INNER:-}" ]; then
    exec env ACCTC_GSO_INNER=1 unshare -m "$0" "$@"
fi
WRITES=${1:-1}
SIZE=${2:-20000}
work=$(mktemp -d)
S=acctc-gso-s$$
R=acctc-gso-r$$
cleanup() {
    ip netns del "$S" 2>/dev/null || true
    ip netns del "$R" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for map in tx rx; do
    clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -DMAP=gso_segs_$map \
        -c "$here/gso_segs.c" -o "$work/$map.o"
done
mount --make-rprivate /
mount -t bpf bpf /sys/fs/bpf
ip netns add "$S"
ip netns add "$R"
ip -n "$S" link add s0 type veth peer name r0 netns "$R"
for n in "$S" "$R"; do
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "$n" link set lo up
done
ip -n "$S" addr add 198.18.72.1/24 dev s0
ip -n "$R" addr add 198.18.72.2/24 dev r0
ip -n "$S" link set s0 up
ip -n "$R" link set r0 up
mac() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }
ip -n "$S" neigh replace 198.18.72.2 lladdr "$(mac "$R" r0)" dev s0 nud permanent
ip -n "$R" neigh replace 198.18.72.1 lladdr "$(mac "$S" s0)" dev r0 nud permanent
ip netns exec "$S" python3 "$here/set_offloads.py" s0 tso=0 gso=1
ip netns exec "$R" python3 "$here/set_offloads.py" r0 gro=1
# nsenter, not ip netns exec: the latter remounts /sys, hiding this bpffs and its pins.
nsenter --net=/run/netns/"$S" tc qdisc add dev s0 clsact
nsenter --net=/run/netns/"$S" tc filter add dev s0 egress bpf da obj "$work/tx.o" sec tc
nsenter --net=/run/netns/"$R" tc qdisc add dev r0 clsact
nsenter --net=/run/netns/"$R" tc filter add dev r0 ingress bpf da obj "$work/rx.o" sec tc
for side in "$S o output oifname s0" "$R i input iifname r0"; do
    set -- $side
    printf 'table inet m {\ncounter c {}\nchain %s {\ntype filter hook %s priority 0; policy accept;\n%s "%s" tcp dport 5001 counter name "c"\n}\n}\n' \
        "$2" "$3" "$4" "$5" | ip netns exec "$1" nft -f -
done
ip netns exec "$R" python3 -c "
import socket
l = socket.socket(); l.bind(('198.18.72.2', 5001)); l.listen(1)
c, _ = l.accept()
while c.recv(65536): pass
" &
sleep 0.5
ip netns exec "$S" python3 -c "
import socket, time
s = socket.create_connection(('198.18.72.2', 5001))
for i in range($WRITES):
    s.sendall(b'x' * $SIZE)
    time.sleep(0.01)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
"
wait
sleep 0.3
counter() { ip netns exec "$1" nft list counter inet m c | awk '/packets/ {print $2 " pkts " $4 " B"}'; }
stats() { ip netns exec "$1" cat /sys/class/net/"$2"/statistics/"$3"_packets /sys/class/net/"$2"/statistics/"$3"_bytes | paste -sd' ' | awk '{print $1 " pkts " $2 " B"}'; }
echo "$WRITES write(s) of $SIZE bytes, the client's direction (tcp dport 5001):"
echo "  sender output hook (nft):      $(counter "$S")"
echo "  sender tc egress (BPF):        $(python3 "$here/read_gso_segs.py" /sys/fs/bpf/tc/globals/gso_segs_tx)"
echo "  receiver input hook (nft):     $(counter "$R")"
echo "  receiver tc ingress (BPF):     $(python3 "$here/read_gso_segs.py" /sys/fs/bpf/tc/globals/gso_segs_rx)"
echo "  sender veth tx (every frame):  $(stats "$S" s0 tx)"
echo "  receiver veth rx (every frame): $(stats "$R" r0 rx)"
