// List-and-zero for iptables-nft: its rules live in nf_tables (`table ip filter`, `table ip6
// filter`), each with a counter expression, so a rule dump with NFT_MSG_GETRULE_RESET (Linux
// 6.3) reads every rule's counter and subtracts exactly what it reports, one rule at a time.
#pragma once

#include "iptables_save.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

// Reads and zeroes the rules of the named chains of iptables-nft's filter table (IPv4, or IPv6),
// one reset dump per chain, in the calling thread's namespace. A chain that no longer exists is
// skipped. Each rule is attributed as iptables-save would show it: its comment (an xt `comment`
// match, or the rule's user data) and whether it has a target or verdict. std::nullopt, with
// nothing zeroed, when the kernel does not know the request.
std::optional<std::vector<CountedRule>>
reset_iptables_nft_chains(bool ipv6, const std::vector<std::string>& chains);

} // namespace acctc::runtime
