// A table's ruleset as nft prints it, normalised for diffing.
#pragma once

#include <string>
#include <vector>

namespace acctc::runtime {

// Lists `table inet TABLE` and then each of `egress_tables` (`table netdev NAME`, a policy's
// egress tables) in the calling thread's namespace, statelessly, and normalises them.
std::string normalised_listing(const std::string& table,
                               const std::vector<std::string>& egress_tables);

} // namespace acctc::runtime
