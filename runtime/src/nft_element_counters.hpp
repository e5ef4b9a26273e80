// The counters of large classifications, counted by the elements of their counting sets
// (compiler/src/element_counters.hpp): one NFT_MSG_GETSETELEM dump per set, each set small
// enough for one reply, so a read is linear in the elements (docs/performance.md). A class of
// several keys is the sum of its elements.
#pragma once

#include "nft_counter_dump.hpp"
#include "nft_netlink.hpp"

#include "acctc/compile.hpp"

#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

// Every element-counted counter of `table inet TABLE`, one per name (its elements summed; the
// comment is the counter's, as a counter object of that name would carry it), in the order of
// first appearance. With reset each element is read and zeroed atomically by the kernel
// (NFT_MSG_GETSETELEM_RESET), and none is zeroed without being returned.
std::vector<KernelCounter> read_element_counters(NftNetlink& netlink, const std::string& table,
                                                 bool reset);

// What a reload changes in the counting sets: the elements of kept sets (`kept`) that the
// policy no longer wants there, or wants counting for another counter, are deleted in the commit
// (`deletions`: nft commands) before the definition re-adds the set, which adds the missing
// ones and leaves every other element as it is, with its count. `changed`: an element is
// deleted or added (a reload of counters only cannot do it).
// `moved`: counters of elements kept whose comment names another origin than `origins` (the
// policy's) does: their origins must be recorded (counter_origins.hpp); the others' comments
// say it already, and recording 100,000 origins costs every read a lookup each.
struct ElementSetChanges {
    std::string deletions;
    bool changed = false;
    std::set<std::string> moved;
};
ElementSetChanges element_set_changes(NftNetlink& netlink, const std::string& table,
                                      const std::vector<CompiledPolicy::ElementSet>& wanted,
                                      const std::set<std::string>& kept,
                                      const std::vector<CompiledCounter>& origins);

// An element's comment split into the counter name and the counter's comment; false when it is
// not one (no name).
bool split_element_comment(std::string_view comment, std::string_view& name,
                           std::string_view& counter_comment);

} // namespace acctc::runtime
