// Kept quota objects whose comment changes on a reload (another period, start day or
// enforcement). nft re-adds a kept quota in place: the kernel takes its new size and keeps what
// was charged, but keeps the old comment too, from which `acctc quotas` and the watcher read the
// period. Such objects are deleted after the table's rules are flushed and declared again with
// what they had used, so neither the charge nor the period is lost. An origin that moved (the
// file was edited) is not worth it.
#pragma once

#include "nft_quota_objects.hpp"

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
