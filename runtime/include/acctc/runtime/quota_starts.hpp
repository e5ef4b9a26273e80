// What a quota object starts with when apply creates it anew (docs/periods.md, "Quotas after a
// flush"): `nft flush ruleset` and a reboot take the kernel's quota objects with them, but the
// period totals know what the quota's counters counted this period. Objects apply keeps hold
// their own (kernel) use and are never given one: the totals include what they counted.
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/period_totals.hpp"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace acctc::runtime {

// `acctc quotas --reset` zeroes a quota by hand within its period: what every series of the
// policy had been booked in that period at the reset. A quota created anew later in the same
// period starts from what was booked since, not from the whole period (the reset would be
// undone by the next flush or reboot).
struct QuotaResetMark {
    std::chrono::sys_seconds period_begin{};
    std::map<SeriesKey, std::uint64_t> booked{}; // bytes, zeros left out
    friend bool operator==(const QuotaResetMark&, const QuotaResetMark&) = default;
};
using QuotaResetMarks = std::map<std::string, QuotaResetMark>; // by quota name

// The mark of a quota of `period` (and `start_day`) reset at `now`, from the totals booked up to
// then.
QuotaResetMark quota_reset_mark(const PolicyTotals& totals, QuotaPeriod period, unsigned start_day,
                                std::chrono::sys_seconds now);

// The marks' file (beside the policy's totals): {"QUOTA": {"period_begin": SECONDS, "booked":
// [{"backend", "counter", "host", "bytes"}]}}; an entry without "backend" (written before the
// series had one) is `no_backend`'s. from_json throws StateError for anything else.
nlohmann::json quota_reset_marks_to_json(const QuotaResetMarks& marks);
QuotaResetMarks quota_reset_marks_from_json(const nlohmann::json& json,
                                            BackendKind no_backend = BackendKind::nftables);

// Per object of each quota: the bytes its counters were booked in the quota's current period
// (at `now`), less what they had been booked when it was reset by hand in that period (`marks`),
// capped at the object's size (the kernel refuses more); per host of a per-host quota likewise,
// in the set for its kind of address. Zeros are left out. Where the policy was counted by more
// than one backend in the period, the most that one backend counted: while two were applied
// both counted the same packets, so their sum would charge those twice.
QuotaStarts quota_starts(const PolicyTotals& totals, const std::vector<CompiledQuota>& quotas,
                         std::chrono::sys_seconds now, const QuotaResetMarks& marks = {});

} // namespace acctc::runtime
