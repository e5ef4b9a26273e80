#!/usr/bin/env python3
"""set_offloads.py DEV tso=0 gso=1 gro=1: the ethtool ioctls, for hosts without ethtool."""
import fcntl, socket, struct, sys, ctypes
dev = sys.argv[1]
SIOCETHTOOL = 0x8946
cmds = {"tso": 0x1f, "gso": 0x24, "gro": 0x2c}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for arg in sys.argv[2:]:
    name, val = arg.split("=")
    v = ctypes.create_string_buffer(struct.pack("II", cmds[name], int(val)), 8)
    ifr = struct.pack("16sQ", dev.encode(), ctypes.addressof(v)) + b"\0" * 16
    fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
