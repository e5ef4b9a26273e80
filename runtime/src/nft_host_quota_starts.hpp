// Hosts of per-host quota sets given what they used, after apply created the sets anew (a
// flush, a reboot, a changed quota): nft cannot declare a set element's quota with its use, so
// they are added through netlink (NFT_MSG_NEWSETELEM with a quota expression that carries
// NFTA_QUOTA_CONSUMED), in one transaction.
#pragma once

#include "acctc/compile.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace acctc::runtime {

// Set name -> host (as nft prints it: 198.18.0.5, 2001:db8::5, aa:bb:cc:dd:ee:ff) -> bytes used.
using HostQuotaStarts = std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>>;

// Adds each host to its set with `quota over LIMIT bytes used N bytes` (N capped at LIMIT, the
// set's own quota size: `limits`, set name -> bytes). A host the packet path added meanwhile
// keeps its element. Throws RuntimeError when the kernel refuses the transaction.
void add_host_quota_starts(const std::string& table, const HostQuotaStarts& starts,
                           const std::map<std::string, std::uint64_t, std::less<>>& limits);

// After apply: the hosts of the policy's per-host quota sets that the apply created (those not
// in `kept_sets`) from policy.quota_starts.hosts.
void start_new_host_quotas(const std::string& table, const CompiledPolicy& policy,
                           const std::vector<std::string>& kept_sets);

} // namespace acctc::runtime
