// The egress tables of a policy (compiler emit_nft.hpp): one `table netdev acctc_P.egress_DEV`
// per device whose leaving packets are counted after fragmentation. Applied beside the inet
// table; their counters add to the inet counters of the same name, less the link-layer header
// that nft counts at egress (recorded per counter at apply from the device's type).
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "nft_netlink.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

// The egress tables of `table` in the kernel: "acctc_P.egress_DEV".
std::vector<std::string> egress_tables(NftNetlink& netlink, const std::string& table);

// The bytes a device's egress hook counts before the IP header of every packet: 14 for
// Ethernet-like devices (the VLAN tag rides beside the frame there), 0 for devices without a
// link-layer header (tun, WireGuard, PPP); empty for a missing device or one whose type has
// no fixed header length.
std::optional<unsigned> link_header_length(const std::string& device);

// The nft text that makes the egress tables of `table` those of the policy: a kept table is
// flushed and re-declared in the same transaction (its counters keep their counts; those the
// policy dropped stay until egress_cleanup), a table of a device the policy no longer names is
// deleted (its counts leave the totals with it). Throws for a device whose header length
// is not fixed. Empty when there is nothing to do.
std::string egress_transaction(NftNetlink& netlink, const std::string& table,
                               const std::vector<CompiledPolicy::Egress>& wanted);

// The counters of kept egress tables that the policy no longer has (deleted once their final
// values were read, as the inet table's are).
std::string egress_cleanup(NftNetlink& netlink, const std::vector<CompiledPolicy::Egress>& wanted);

// "VERB table netdev ..." (flush or delete) for every egress table of `table` (empty if none).
std::string egress_removal(NftNetlink& netlink, const std::string& table, const char* verb);

// Adds each egress counter of `table` to the reading of the same name: its packets, and its
// bytes less the link-layer header of each packet (wire_bytes).
void add_egress_counts(NftNetlink& netlink, const std::string& table, bool reset,
                       std::vector<CounterReading>& readings);

// L3 bytes from what an egress counter counted: `header` bytes fewer per packet.
std::uint64_t wire_bytes(std::uint64_t counted, std::uint64_t packets, unsigned header);

} // namespace acctc::runtime
