// Names of kernel objects that do not come from counter families (families.hpp names counters).
#pragma once

#include <string>

namespace acctc {

// The nft chain that hooks ingress on a device: "ingress_<device>", with each byte nft cannot
// take in a chain name ('@', '+', ...) written as '/' and two hex digits ("veth@if3" ->
// "ingress_veth/40if3"). Device names never hold '/', so two devices never share a chain.
std::string ingress_chain_name(const std::string& device);

// The nft chain that hooks egress on a device, "egress_<device>" escaped alike; it is also the
// last part of the name of its table (emit_nft.hpp).
std::string egress_chain_name(const std::string& device);

} // namespace acctc
