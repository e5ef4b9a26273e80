// Named counters read (or read and zeroed) one request per name, pipelined: linear in the number
// of names however many objects the namespace holds.
#pragma once

#include "nft_counter_dump.hpp"
#include "nft_netlink.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

struct CounterLookup {
    std::vector<KernelCounter> found; // in the order of the names asked for
    std::vector<std::string> missing; // names the table has no counter of
};

// Every name must be a valid nf_tables object name (1 to 255 bytes, no NUL).
CounterLookup lookup_counters(NftNetlink& netlink, const std::string& table,
                              const std::vector<std::string>& names, bool reset);

} // namespace acctc::runtime
