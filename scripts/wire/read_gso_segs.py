#!/usr/bin/env python3
"""Prints the four slots of a pinned gso_segs.c map: read_gso_segs.py /sys/fs/bpf/tc/globals/MAP"""
import ctypes, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_BPF = 321
def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(SYS_BPF, cmd, buf, 128)
    if r < 0:
        raise OSError(ctypes.get_errno(), "bpf")
    return r
path = ctypes.create_string_buffer(sys.argv[1].encode())
fd = bpf(7, struct.pack("QII", ctypes.addressof(path), 0, 0))
out = []
for k in range(4):
    key = ctypes.c_uint32(k); val = ctypes.c_uint64(0)
    bpf(1, struct.pack("IIQQQ", fd, 0, ctypes.addressof(key), ctypes.addressof(val), 0))
    out.append(val.value)
print("hook %d pkts %d B; wire (gso_segs) %d pkts %d B" % tuple(out))
