// A new table holding large counting sets (element counters) loaded in two transactions, so
// that libnftables never parses their elements: its parse and evaluation of 100,000 elements
// with their comments was most of an apply's second (docs/performance.md).
//
// 1. libnftables loads the definition with every counting set empty and every base chain
//    without rules (each base chain's rules wait in a regular chain NAME.fill that nothing
//    jumps to). Nothing in the table counts yet: its base chains are empty, so packets pass them
//    as before the table existed.
// 2. One libnftnl transaction adds the counting sets' elements, copies each NAME.fill's rules
//    (as the kernel holds them) into NAME and deletes NAME.fill. The table starts counting at
//    that commit, with every element in place: no packet meets a lookup of an empty set.
// If the second step fails the table is deleted again (it never counted anything). If the process
// dies between the steps, the table's NAME.fill chains say so: every command that reads it says
// the policy counts nothing (stopped_between_steps), and the next apply deletes it and loads it
// anew.
#pragma once

#include "acctc/compile.hpp"
#include "nft_netlink.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

struct NewTableSteps {
    std::string definition;               // the first step's text (without `table inet T`)
    std::vector<std::string> base_chains; // whose rules wait in NAME.fill
};

// Nothing when the definition does not lend itself: no counting set with elements, or a base
// chain rule holding an anonymous set or map (`{`), which goes with its rule and cannot be
// copied to another chain.
std::optional<NewTableSteps> new_table_steps(const std::string& definition,
                                             const std::vector<CompiledPolicy::ElementSet>& sets);

// The second step, all or nothing. Throws RuntimeError naming what the kernel refused.
void fill_new_table(NftNetlink& netlink, const std::string& table, const NewTableSteps& steps,
                    const std::vector<CompiledPolicy::ElementSet>& sets);

// True when the table holds a NAME.fill chain: an apply stopped between the two steps, and the
// table counts nothing.
bool stopped_between_steps(NftNetlink& netlink, const std::string& table);

// For the kernel test of that state: with ACCTC_TEST_KILL_BETWEEN_STEPS set, the process kills
// itself (SIGKILL, as the OOM killer or a power cut would stop it) right after the first step.
void test_kill_between_steps();

// Deletes `table inet TABLE` (a new table whose second step failed).
void delete_new_table(NftNetlink& netlink, const std::string& table);

} // namespace acctc::runtime
