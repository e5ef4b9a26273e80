// Reading the counters of one acctc table, fast at any size. By name when the names are known
// (one pipelined request each: 100,000 counters in a fraction of a second); through the kernel's
// object dump, quadratic in the number of objects, only to learn them.
#pragma once

#include "nft_counter_dump.hpp"
#include "nft_netlink.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

// Every counter of `table inet TABLE` (none when it does not exist); with reset each is read
// and zeroed atomically by the kernel, and none is zeroed without being returned.
std::vector<KernelCounter> read_table_counters(NftNetlink& netlink, const std::string& table,
                                               bool reset);

// Records that the table now holds exactly these counters (after a committed apply).
void remember_counter_names(NftNetlink& netlink, const std::string& table,
                            const std::vector<std::string>& names);

// Drops what was recorded about a table (when it is deleted).
void forget_counter_names(const std::string& table);

} // namespace acctc::runtime
