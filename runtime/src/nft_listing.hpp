// A table's ruleset as nft prints it, normalised for diffing.
#pragma once

#include <string>

namespace acctc::runtime {

// Lists `table inet TABLE` in the calling thread's namespace, statelessly, and normalises it.
std::string normalised_listing(const std::string& table);

} // namespace acctc::runtime
