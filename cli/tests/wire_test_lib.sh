# Sourced by the kernel tests of the BPF correction of merged packets: traffic between the
# namespaces $host and $peer that GSO and GRO merge.
# Bulk TCP both ways, the host connecting to the peer: ADDRESS PORT SEND REPLY (bytes, in
# writes of 20,000 and more).
bulk() {
    ip netns exec "$peer" python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in '$1' else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$1', $2)); s.listen(1)
c, _ = s.accept()
got = 0
while got < $3:
    got += len(c.recv(65536))
c.sendall(b'r' * $4)
c.shutdown(socket.SHUT_WR)
while c.recv(65536): pass
" &
    sleep 0.3
    ip netns exec "$host" python3 -c "
import socket
s = socket.create_connection(('$1', $2))
s.sendall(b's' * $3)
got = 0
while got < $4:
    got += len(s.recv(65536))
s.close()
"
    wait
}
