# nfnetlink_acct probe (scripts/probe_nfacct.sh runs it): create an nfacct object with a byte
# quota and initial bytes, read it, zero it, replace it, delete it, and listen for its
# over-quota event. Run inside a network namespace. Evidence for docs/iptables.md, "Quotas".
import socket, struct, sys, os, select
NETLINK_NETFILTER = 12
NFNL_SUBSYS_ACCT = 7
NEW, GET, GET_CTRZERO, DEL, OVERQUOTA = 0, 1, 2, 3, 4
NAME, PKTS, BYTES, USE, FLAGS, QUOTA = 1, 2, 3, 4, 5, 6
F_QUOTA_BYTES = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE, NLM_F_DUMP = 1, 4, 0x200, 0x400, 0x300
def attr(t, data):
    l = 4 + len(data)
    return struct.pack("HH", l, t) + data + b"\0" * ((4 - l % 4) % 4)
def msg(kind, flags, attrs, seq=1):
    body = struct.pack("BBH", socket.AF_UNSPEC, 0, 0) + b"".join(attrs)
    return struct.pack("IHHII", 16 + len(body), (NFNL_SUBSYS_ACCT << 8) | kind, flags, seq, 0) + body
def parse(data):
    out = []
    while len(data) >= 16:
        l, t, f, s, p = struct.unpack("IHHII", data[:16])
        if t == 2:  # NLMSG_ERROR
            out.append(("error", struct.unpack("i", data[16:20])[0]))
        elif t == 3:  # NLMSG_DONE
            out.append(("done", None))
        elif t != 3:
            a = {}
            b = data[20:l]
            while len(b) >= 4:
                al, at = struct.unpack("HH", b[:4])
                v = b[4:al]
                if at in (PKTS, BYTES, QUOTA): v = struct.unpack(">Q", v)[0]
                elif at in (FLAGS, USE): v = struct.unpack(">I", v)[0]
                elif at == NAME: v = v.rstrip(b"\0").decode()
                a[at] = v
                b = b[(al + 3) & ~3:]
            out.append((t & 0xff, a))
        data = data[(l + 3) & ~3:]
    return out
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
s.bind((0, 0))
def call(kind, flags, attrs):
    s.send(msg(kind, NLM_F_REQUEST | flags, attrs))
    res = []
    while True:
        got = parse(s.recv(65536))
        res += got
        if any(g[0] == "error" for g in got) or not (flags & NLM_F_DUMP) or any(g[0] == "done" for g in got):
            return res
cmd = sys.argv[1]
name = sys.argv[2].encode() + b"\0" if len(sys.argv) > 2 else b"\0"
if cmd == "new":  # new NAME QUOTA BYTES
    print(call(NEW, NLM_F_CREATE | NLM_F_ACK | NLM_F_EXCL, [attr(NAME, name), attr(FLAGS, struct.pack(">I", F_QUOTA_BYTES)),
          attr(QUOTA, struct.pack(">Q", int(sys.argv[3]))), attr(BYTES, struct.pack(">Q", int(sys.argv[4])))]))
elif cmd == "replace":  # replace NAME QUOTA: a new quota for an existing object?
    print(call(NEW, NLM_F_CREATE | NLM_F_ACK | 0x100, [attr(NAME, name), attr(FLAGS, struct.pack(">I", F_QUOTA_BYTES)),
          attr(QUOTA, struct.pack(">Q", int(sys.argv[3])))]))
elif cmd in ("get", "zero"):
    print(call(GET if cmd == "get" else GET_CTRZERO, NLM_F_ACK, [attr(NAME, name)]))
elif cmd == "list":  # list PREFIX: the objects whose names start with PREFIX, one a line
    for g in call(GET, NLM_F_DUMP, []):
        if g[0] == NEW and g[1][NAME].startswith(sys.argv[2]):
            a = g[1]
            print(a[NAME], a[BYTES], a.get(QUOTA, 0), a[USE])
elif cmd == "del":
    print(call(DEL, NLM_F_ACK, [attr(NAME, name)]))
elif cmd == "listen":  # listen NAME SECONDS: over-quota events (group 8, NFNLGRP_ACCT_QUOTA)
    s.setsockopt(270, 1, 8)
    end = float(sys.argv[3])
    while select.select([s], [], [], end)[0]:
        for g in parse(s.recv(65536)):
            print("event", g, flush=True)
