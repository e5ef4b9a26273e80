// Counter names produced by a counter's splits: base, then one suffix per split in the order
// the splits were written (skype + split protocol + split direction -> skype_tcp_in).
#pragma once

#include "ir.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc {

std::string protocol_suffix(std::uint8_t protocol);
std::string icmp_type_suffix(std::uint8_t type, bool v6);

// The name for one combination; a split whose value is not given (nullopt) is skipped.
std::string split_counter_name(const ir::Counter& counter, std::optional<std::uint8_t> protocol,
                               std::optional<ir::Direction> direction,
                               std::optional<std::uint8_t> type);

// Every name a counter produces, in a stable order.
std::vector<std::string> all_counter_names(const ir::Counter& counter);

// The nft chain that hooks ingress on a device: "ingress_<device>", with each byte nft cannot
// take in a chain name ('@', '+', ...) written as '/' and two hex digits ("veth@if3" ->
// "ingress_veth/40if3"). Device names never hold '/', so two devices never share a chain.
std::string ingress_chain_name(const std::string& device);

} // namespace acctc
