// acctc's quota objects as nf_tables describes them: dump replies and events alike.
#pragma once

#include "acctc/runtime/quotas.hpp"
#include "nft_netlink.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

// The quota object an NFT_MSG_NEWOBJ message describes; empty for other objects, tables not
// acctc's and quotas without an acctcq1 comment. consumed is what the kernel reports: capped at
// the object's size once spent.
std::optional<QuotaEvent> quota_object(const nlmsghdr* message);

// Every acctc quota object of one table (of every table when empty).
std::vector<QuotaEvent> dump_quota_objects(NftNetlink& netlink, const std::string& table);

} // namespace acctc::runtime
