#!/usr/bin/env bash
# What nfacct gives an iptables quota, measured with real packets (docs/iptables.md, "Quotas"):
#   scripts/probe_nfacct.sh iptables-legacy|iptables-nft
# Two namespaces (deleted on exit); an object with a 5000-byte quota that starts at 2056 bytes;
# five 1028-byte datagrams against -m nfacct ... -j DROP; then read, delete while used,
# save|restore, zero, replace with another quota, the over-quota event, delete unused.
set -u
probe=$(dirname "$(realpath "$0")")/probe_nfacct.py
events=$(mktemp)
variant=$1
h=acctc-nfacct-host-$$; p=acctc-nfacct-peer-$$
trap 'kill $listener 2>/dev/null; ip netns del $h; ip netns del $p' EXIT
ip netns add $h; ip netns add $p
ip link add veth0 netns $h type veth peer name veth0 netns $p
for ns in $h $p; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1; ip -n $ns link set lo up; ip -n $ns link set veth0 up; done
ip -n $h addr add 198.18.96.1/24 dev veth0; ip -n $p addr add 198.18.96.2/24 dev veth0
A() { ip netns exec $h python3 "$probe" "$@"; }
A new acctc-probe 5000 2056
ip netns exec $h python3 -u "$probe" listen acctc-probe 6 > "$events" &
listener=$!
sleep 0.3
ip netns exec $h $variant -A INPUT -p udp --dport 9000 -m nfacct --nfacct-name acctc-probe -j DROP
ip netns exec $h python3 -u -c '
import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("198.18.96.1",9000)); s.settimeout(1.5)
n=0
try:
  while True: s.recv(4096); n+=1
except Exception: pass
print("received", n)' &
sleep 0.3
ip netns exec $p python3 -c '
import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b" "*1000,("198.18.96.1",9000))'
wait %2 2>/dev/null; sleep 1.6
echo "get:"; A get acctc-probe
echo "del while used:"; A del acctc-probe
ip netns exec $h $variant-save | grep nfacct
ip netns exec $h $variant-save | ip netns exec $h $variant-restore; echo "after save|restore:"; A get acctc-probe
echo "zero:"; A zero acctc-probe; A get acctc-probe
echo "replace with 9000:"; A replace acctc-probe 9000; A get acctc-probe
sleep 3; echo "events:"; cat "$events"; rm -f "$events"
ip netns exec $h $variant -F INPUT; echo "del unused:"; A del acctc-probe
