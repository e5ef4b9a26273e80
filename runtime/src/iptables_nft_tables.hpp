// iptables-nft creates `table ip filter` and `table ip6 filter` when the first rule goes in, and
// never deletes them. A filter table that an acctc apply created is deleted again by the remove
// that leaves it as apply found it: nothing but the built-in chains, without rules, accepting,
// so `nft list ruleset` after `acctc remove` is what it was before `acctc apply`.
#pragma once

#include "iptables_save.hpp"

#include <string>

namespace acctc::runtime {

// family: "ip" or "ip6". Called in the policy's network namespace.
bool nft_filter_table_exists(const std::string& family);
void remember_created_filter_table(const std::string& family);
// After a remove: `after` is the filter table as iptables-nft-save lists it now. Deletes the
// table when apply created it and nothing is left in it; forgets that apply created it once
// something that is not acctc's is in it (the table is someone else's too from then on).
void delete_created_filter_table(const std::string& family, const SavedTable& after);

} // namespace acctc::runtime
