// Makes two nft listings comparable: only what a policy decides is left to differ.
#pragma once

#include <set>
#include <string>

namespace acctc::runtime {

// listing: `nft --stateless list table` text. Drops what the kernel, not the policy, decides:
// the comments of named counters and sets (a surviving one keeps the comment it was created
// with), counter values nft still prints, the elements of sets the packet path fills
// (dynamic_sets), and trailing blanks; and puts the table's members in canonical order.
std::string normalise_ruleset(const std::string& listing,
                              const std::set<std::string>& dynamic_sets);

// The table's members (counters, sets, maps, chains, ...) sorted by their first line, which
// names kind and name: the kernel lists them in creation order, so a counter a reload added
// comes after the kept ones wherever the policy declares it. Order among them means nothing.
// One blank line between each two.
std::string in_canonical_order(const std::string& listing);

} // namespace acctc::runtime
