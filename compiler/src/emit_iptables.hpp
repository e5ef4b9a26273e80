// Stage 4, emit (iptables): rules::Table -> `iptables-restore --noflush` and
// `ip6tables-restore --noflush` text, plus `ipset -exist restore` text for peer sets.
//
// Every counter gets a chain of its own holding its only counting rule (`-m comment --comment
// "acctc:<counter>"`, no target); the rules that count jump there. So a counter is one kernel
// rule per family whatever number of rules feed it, and a re-apply that leaves those chains alone
// keeps their values. Hook chains are jumped to from INPUT/OUTPUT/FORWARD by one rule each
// (`-m comment --comment "acctc:policy:<policy>"`), inserted first like the nft table's priority
// filter - 10. `accept` ends acctc's processing (RETURN to the built-in chain) exactly as an nft
// accept ends only acctc's table; `drop` drops.
#pragma once

#include "rules.hpp"

#include <string>
#include <utility>
#include <vector>

namespace acctc {

struct IptablesText {
    std::string ipset; // `ipset -exist restore` input; empty when the policy has no peer sets
    std::string v4;    // `iptables-restore --noflush` input (without a header comment)
    std::string v6;    // `ip6tables-restore --noflush` input
    std::vector<std::pair<std::string, std::string>> counter_chains; // counter -> chain
    std::vector<std::string> sets;                                   // ipset names
};

IptablesText emit_iptables(const rules::Table& table);

} // namespace acctc
