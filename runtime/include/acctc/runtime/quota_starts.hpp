// What a quota object starts with when apply creates it anew (docs/periods.md, "Quotas after a
// flush"): `nft flush ruleset` and a reboot take the kernel's quota objects with them, but the
// period totals know what the quota's counters counted this period. Objects apply keeps hold
// their own (kernel) use and are never given one: the totals include what they counted.
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/period_totals.hpp"

#include <chrono>
#include <vector>

namespace acctc::runtime {

// Per object of each quota: the bytes its counters were booked in the quota's current period
// (at `now`), capped at the object's size (the kernel refuses more); per host of a per-host
// quota likewise, in the set for its kind of address. Zeros are left out.
QuotaStarts quota_starts(const PolicyTotals& totals, const std::vector<CompiledQuota>& quotas,
                         std::chrono::sys_seconds now);

} // namespace acctc::runtime
