// Segmentation offloads off, so every packet a hook counts is one packet on the wire: with
// TSO/GSO on, TCP hands the output hook one large skb that is split only after netfilter, and
// GRO merges received segments before the input hook.
#pragma once

#include "acctc/testbench/netns.hpp"

#include <string>

namespace acctc::testbench {

// TSO, GSO and GRO off on `interface` in `netns` (the legacy ETHTOOL_S* ioctls).
void disable_offloads(const NamedNetns& netns, const std::string& interface);

} // namespace acctc::testbench
