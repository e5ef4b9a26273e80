// Per-namespace sysctls under /proc/sys/net, written from inside the namespace: the kernel
// resolves /proc/sys/net through the network namespace of the thread that opens the file.
#pragma once

#include "acctc/testbench/netns.hpp"

#include <string>

namespace acctc::testbench {

// `key` in slash form below /proc/sys, e.g. "net/ipv4/conf/eth0/rp_filter" (slashes keep
// interface names with dots unambiguous). Only net/ keys: they are the namespaced ones.
void write_sysctl(const NamedNetns& netns, const std::string& key, const std::string& value);
std::string read_sysctl(const NamedNetns& netns, const std::string& key);

} // namespace acctc::testbench
