// The parts of a reload sent as nf_tables transactions built with libnftnl rather than as nft
// text: libnftables fetches every object of the table into its cache before it sends
// anything, through a dump whose cost grows with the square of the objects (seconds at
// 100,000 counters), while these need no cache at all.
#pragma once

#include "counter_relabel.hpp"
#include "nft_netlink.hpp"
#include "reload_plan.hpp"

#include <functional>
#include <string>
#include <vector>

namespace acctc::runtime {

// Sends count messages (NftNetlink::transaction) as one transaction in `table inet TABLE`, all
// or nothing. Throws RuntimeError naming what(item) for the message the kernel refused
// (ErrorKind::rejected for ENOENT, EEXIST, EINVAL and EBUSY: the kernel changed nothing).
void commit_batch(NftNetlink& netlink, const std::string& table, std::size_t count,
                  const NftNetlink::BuildItem& build,
                  const std::function<std::string(std::size_t)>& what);

// A reload that changes only counters (reload_plan.hpp: only_counters_change): creates
// `create` (with their comments) and deletes `remove` in `table inet TABLE`, all or nothing.
// Throws RuntimeError naming the counter the kernel refused.
void commit_counter_changes(NftNetlink& netlink, const std::string& table,
                            const std::vector<DeclaredCounter>& create,
                            const std::vector<std::string>& remove);

// A reload's cleanup (ReloadTransactions::cleanup), all or nothing. Throws RuntimeError naming
// the step the kernel refused.
void run_cleanup(NftNetlink& netlink, const std::string& table,
                 const std::vector<CleanupStep>& steps);

} // namespace acctc::runtime
