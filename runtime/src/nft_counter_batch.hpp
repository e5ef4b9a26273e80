// Named counters created and deleted in one nf_tables transaction built with libnftnl, for the
// reloads that change nothing else (reload_plan.hpp: only_counters_change). libnftables
// cannot send even that without first fetching every object of the table into its cache,
// through a dump whose cost grows with the square of the objects: seconds at 100,000 counters.
#pragma once

#include "counter_relabel.hpp"
#include "nft_netlink.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

// Creates `create` (with their comments) and deletes `remove` in `table inet TABLE`, all or
// nothing. Throws RuntimeError naming the counter the kernel refused.
void commit_counter_changes(NftNetlink& netlink, const std::string& table,
                            const std::vector<DeclaredCounter>& create,
                            const std::vector<std::string>& remove);

} // namespace acctc::runtime
