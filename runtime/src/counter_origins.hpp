// Where each counter of an acctc table is declared ("file:line"), as the policy last applied
// says. The kernel cannot change an object's comment, so a counter a reload keeps carries the
// origin it was created with; this record, written by every apply, lets the reading show the
// current one. Only a label: it is used when the table's handle is the recorded one, and a
// counter it does not name shows its kernel comment.
#pragma once

#include "nft_netlink.hpp"

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace acctc::runtime {

// Records name -> origin for the table as it is now (after a committed apply).
void record_origins(NftNetlink& netlink, const std::string& table,
                    const std::map<std::string, std::string>& origins);

// The recorded origins, empty when there is no record of this table (by handle).
std::unordered_map<std::string, std::string> recorded_origins(NftNetlink& netlink,
                                                              const std::string& table);

void forget_origins(const std::string& table);

} // namespace acctc::runtime
