// Segmentation offloads off, so every packet a hook counts is one packet on the wire: with
// TSO/GSO on, TCP hands the output hook one large skb that is split only after netfilter, and
// GRO merges received segments before the input hook.
#pragma once

#include "acctc/testbench/netns.hpp"

#include <string>

namespace acctc::testbench {

// TSO, GSO and GRO off on `interface` in `netns` (the legacy ETHTOOL_S* ioctls).
void disable_offloads(const NamedNetns& netns, const std::string& interface);

// As on a real card (scenario statement `offloads NODE.IF`): GSO and GRO on, TSO off, so that
// the veth carries the segments a card would put on the wire while the hooks see merged
// packets (docs/counting.md).
void card_offloads(const NamedNetns& netns, const std::string& interface);

} // namespace acctc::testbench
