// Kept quota objects whose comment changes on a reload (another period, start day or
// enforcement). nft re-adds a kept quota in place: the kernel takes its new size and keeps what
// was charged, but keeps the old comment too, from which `acctc quotas` and the watcher read the
// period. Such objects are deleted after the table's rules are flushed and declared again with
// what they had used, so neither the charge nor the period is lost. An origin that moved (the
// file was edited) is not worth it.
#pragma once

#include "acctc/compile.hpp"
#include "nft_host_counters.hpp"
#include "nft_quota_objects.hpp"
#include "reload_plan.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace acctc::runtime {

struct QuotaRelabel {
    std::string name;
    std::uint64_t used = 0; // as the kernel reports it: at most the old size
};

// The quota objects of `live` that `definition` (as emit_nft writes it: "\tquota NAME {", then
// "\t\tover N bytes", then "\t\tcomment \"...\"") declares again under another identity.
std::vector<QuotaRelabel> quotas_to_relabel(const std::vector<QuotaEvent>& live,
                                            const std::string& definition);

// The reload commit (starting "table inet T\nflush table inet T\n") with each relabelled
// object deleted after the flush and declared with `used N bytes`.
std::string with_quota_relabels(std::string commit, const std::string& table,
                                const std::vector<QuotaRelabel>& relabels);

} // namespace acctc::runtime

namespace acctc::runtime {

// Kept sets of per-host quotas (NAME_quota_v4, ...) whose quota identity (period, warning level,
// enforcement) changes: a kept set keeps the comment it was created with, from which `acctc
// quotas` reads them, so such sets move from kept to replaced in `plan`. Their budget is part
// of their shape already (`quota over N bytes`).
void recreate_relabelled_quota_sets(SetPlan& plan, const std::vector<CommentedSet>& live,
                                    const std::string& definition);

// The table's definition with each quota object that `live` does not hold (the table or the
// object is new) declared with `used N bytes` from `starts` (quota_starts.hpp). Objects the
// kernel keeps keep their own use.
std::string with_quota_starts(std::string definition, const std::vector<QuotaEvent>& live,
                              const QuotaStarts& starts);

} // namespace acctc::runtime
