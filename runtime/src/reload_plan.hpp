// The nft text of a lossless reload: everything in acctc's table is replaced in one
// transaction except the named counters, which nft re-adds in place and so keep their values.
#pragma once

#include "nft_inventory.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

struct CounterPlan {
    std::vector<std::string> kept;    // in the table and in the policy
    std::vector<std::string> added;   // only in the policy
    std::vector<std::string> removed; // only in the table: unreferenced after the reload
};

CounterPlan plan_counters(const std::vector<std::string>& existing,
                          const std::vector<std::string>& wanted);

// Flushes the rules, deletes every chain, set, map, flowtable and non-counter object the
// table holds now (existing; nullptr when the table is new), then adds the definition.
std::string reload_transaction(const std::string& table, const TableInventory* existing,
                               const std::string& definition);

// Deletes counters that no rule references any more.
std::string delete_counters_transaction(const std::string& table,
                                        const std::vector<std::string>& counters);

// nft quotes names so that no identifier can be read as a keyword.
std::string quoted(const std::string& name);

} // namespace acctc::runtime
