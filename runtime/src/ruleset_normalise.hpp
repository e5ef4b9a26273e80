// Makes two nft listings comparable: only what a policy decides is left to differ.
#pragma once

#include <set>
#include <string>

namespace acctc::runtime {

// listing: `nft --stateless list table` text. Drops what the kernel, not the policy, decides:
// the comments of named counters and sets (a surviving one keeps the comment it was created
// with), counter values nft still prints, the elements of sets the packet path fills
// (dynamic_sets), and trailing blanks.
std::string normalise_ruleset(const std::string& listing,
                              const std::set<std::string>& dynamic_sets);

} // namespace acctc::runtime
