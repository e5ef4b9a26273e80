# Shared by the quota kernel tests (sourced after netns_test_lib.sh, once they set host and
# peer): waiting for a line, the quota watcher, a UDP receiver and its sender, ended on exit.
watcher=
receiver=
on_exit() {
    [[ -n $watcher ]] && kill "$watcher" 2>/dev/null && wait "$watcher" 2>/dev/null
    [[ -n $receiver ]] && kill "$receiver" 2>/dev/null
}
export TZ=UTC

wait_for() { # wait_for FILE PATTERN: up to 5 s
    for _ in $(seq 50); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# The watcher in the host namespace, its stderr taken for the journal (JOURNAL_STREAM names
# it): "<N>" prefixes.
start_watcher() { # start_watcher NOW
    : >"$work/watch.log"
    local stream
    stream=$(stat -c '%d:%i' "$work/watch.log")
    ip netns exec "$host" env ACCTC_NOW="$1" JOURNAL_STREAM="$stream" \
        "$acctc" quotas --watch --state-dir "$work/state" 2>>"$work/watch.log" &
    watcher=$!
    wait_for "$work/watch.log" "watching" || fail "the watcher did not start: $(cat "$work/watch.log")"
}
stop_watcher() { kill "$watcher"; wait "$watcher" 2>/dev/null; watcher=; }

# The line-quota tests' host (quotas_test.sh, iptables_quotas_test.sh): $host and $peer joined
# by veth0 with 198.18.NET.1 and .2, and the policy qt in $work/etc: 10 kB a month from the
# 15th, warned at 50 % (5000 bytes), then dropped. Each datagram of send() is 1000 bytes of UDP
# payload: 1028 bytes of IPv4 packet, as the quota counts them.
line_quota_host() { # line_quota_host NET
    make_veth_pair --no-ipv6 "$host" "$peer" # IPv6's neighbour discovery would be charged too
    address_pair "$host" "$peer" "198.18.$1"
    mkdir -p "$work/etc"
    cat >"$work/etc/qt.acct" <<'POLICY'
policy qt
interface wan = veth0
counter wan { via wan; split direction }
quota line { on wan; 10 kB per month from day 15; warn at 50 %; drop }
POLICY
}
in_host() { ip netns exec "$host" env ACCTC_POLICY_DIR="$work/etc" ACCTC_STATE_DIR="$work/state" "$@"; }
quotas() { in_host "$acctc" quotas qt "$@"; }
status() { quotas >/dev/null 2>&1; echo $?; }

# A receiver of UDP port 9000 on ADDRESS in $host: "0", then one line per datagram counted.
start_receiver() { # start_receiver ADDRESS
    receiver_address=$1
    ip netns exec "$host" python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9000))
print(0, flush=True)
n = 0
while True:
    s.recv(4096)
    n += 1
    print(n, flush=True)
' "$1" >"$work/received" &
    receiver=$!
    wait_for "$work/received" "^0" || fail "receiver did not start"
}
send() { # send N: N datagrams of 1000 bytes of payload (1028 as IPv4) from $peer to the receiver
    ip netns exec "$peer" bash -c \
        'for ((i = 0; i < $1; i++)); do printf "%1000s" "" >/dev/udp/$2/9000; done' _ "$1" \
        "$receiver_address"
}
received() { # what the receiver has counted so far
    sleep 0.3
    tail -n 1 "$work/received"
}
