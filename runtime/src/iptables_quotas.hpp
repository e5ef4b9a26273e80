// The iptables backend's quotas as `acctc quotas` reads them (docs/iptables.md, "Quotas"):
// acctc's nfacct objects ("acctc-" names) that a rule charges, each described by the comment
// of its charge rule (which policy, quota, period, warning level and enforcement). The rules
// are read (iptables-save of the iptables acctc remembers applying here) only when an object
// appears whose name is not known yet: a name says all its rule says but the policy line.
#pragma once

#include "acctc/runtime/quotas.hpp"

#include <libmnl/libmnl.h>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

// The quotas of `policy` (every policy when empty) held by nfacct objects.
std::vector<QuotaReading> read_nfacct_quotas(const std::string& policy);

// Zeroes the quota's object, read and zeroed at once (NFNL_MSG_ACCT_GET_CTRZERO, which also
// re-arms its over-quota event); what it held, empty when no nfacct object holds the quota.
std::vector<QuotaReading> reset_nfacct_quota(const std::string& policy, const std::string& quota);

// An object's NFNL_MSG_ACCT_OVERQUOTA as its quota's depletion; nothing when the object is
// not an acctc quota's.
std::optional<QuotaEvent> nfacct_quota_event(const nlmsghdr* message);

} // namespace acctc::runtime
