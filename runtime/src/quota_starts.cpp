#include "acctc/runtime/quota_starts.hpp"

#include "acctc/runtime/quotas.hpp"

#include <algorithm>
#include <map>

namespace acctc::runtime {
namespace {

// The set of a per-host quota a host's element is in, by the host's form (lower_quotas.cpp).
std::string quota_set_suffix(const std::string& host) {
    const auto colons = std::count(host.begin(), host.end(), ':');
    if (colons == 5 && host.size() == 17 && host.find("::") == std::string::npos) {
        return "_quota_mac";
    }
    return colons != 0 ? "_quota_v6" : "_quota_v4";
}

} // namespace

QuotaStarts quota_starts(const PolicyTotals& totals, const std::vector<CompiledQuota>& quotas,
                         std::chrono::sys_seconds now) {
    QuotaStarts out;
    for (const auto& quota : quotas) {
        const periods::Period period = quota_period(quota.period, quota.start_day, now);
        std::uint64_t used = 0;
        std::map<std::string, std::uint64_t> hosts;
        for (const auto& [key, series] : totals.series) {
            if (key.host.empty() != !quota.per_host ||
                !std::binary_search(quota.counters.begin(), quota.counters.end(), key.counter)) {
                continue;
            }
            const std::uint64_t bytes = total_in(series, period, period_length(quota.period)).bytes;
            (quota.per_host ? hosts[key.host] : used) += bytes;
        }
        for (const auto& object : quota.objects) {
            if (used != 0) {
                out.objects[object.name] = std::min(used, object.bytes);
            }
        }
        for (const auto& [host, bytes] : hosts) {
            const std::string set = quota.name + quota_set_suffix(host);
            if (bytes != 0 &&
                std::find(quota.sets.begin(), quota.sets.end(), set) != quota.sets.end()) {
                out.hosts[set][host] = std::min(bytes, quota.limit);
            }
        }
    }
    return out;
}

} // namespace acctc::runtime
