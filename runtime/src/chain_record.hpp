// Which rules a reload put in each chain of an acctc table, remembered under /run/acctc so that
// the next reload can leave a chain whose rules do not change alone (reload_transactions says
// why that matters). The record is a claim checked against the kernel: a chain counts as
// unchanged only when the table is the same one (its handle) and the chain still holds exactly
// the rules recorded (rule handles, which the kernel never reuses within a table, so any rule
// added, deleted or replaced since shows), and the definition's text of it is the one recorded.
#pragma once

#include "nft_netlink.hpp"
#include "reload_plan.hpp"

#include <map>
#include <string>

namespace acctc::runtime {

// Chains of `definition` that `table` holds unchanged, as far as the record proves it, with
// the handles of their rules.
LiveChains recorded_unchanged_chains(NftNetlink& netlink, const std::string& table,
                                     const std::string& definition);

// The same for the given chain blocks (chain name -> its lines, as chain_blocks() gives them)
// only: a reload that changes a few chains need not digest every chain of a large definition.
LiveChains recorded_unchanged_blocks(NftNetlink& netlink, const std::string& table,
                                     const std::map<std::string, std::string>& blocks);

// Records the rules of every chain after a committed reload of `definition`.
void record_chains(NftNetlink& netlink, const std::string& table, const std::string& definition);

// Drops the record of a table (when it is deleted).
void forget_chains(const std::string& table);

} // namespace acctc::runtime
