#include "acctc/runtime/quota_starts.hpp"

#include "acctc/runtime/backend.hpp"
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

QuotaResetMark quota_reset_mark(const PolicyTotals& totals, QuotaPeriod period, unsigned start_day,
                                std::chrono::sys_seconds now) {
    const periods::Period current = quota_period(period, start_day, now);
    QuotaResetMark mark{current.begin, {}};
    for (const auto& [key, series] : totals.series) {
        if (const auto bytes = total_in(series, current, period_length(period)).bytes; bytes != 0) {
            mark.booked[key] = bytes;
        }
    }
    return mark;
}

nlohmann::json quota_reset_marks_to_json(const QuotaResetMarks& marks) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [quota, mark] : marks) {
        nlohmann::json booked = nlohmann::json::array();
        for (const auto& [key, bytes] : mark.booked) {
            booked.push_back({{"backend", std::string(backend_info(key.backend).name)},
                              {"counter", key.counter},
                              {"host", key.host},
                              {"bytes", bytes}});
        }
        out[quota] = {{"period_begin", mark.period_begin.time_since_epoch().count()},
                      {"booked", std::move(booked)}};
    }
    return out;
}

QuotaResetMarks quota_reset_marks_from_json(const nlohmann::json& json, BackendKind no_backend) {
    QuotaResetMarks out;
    try {
        if (!json.is_object()) {
            throw StateError("not an object of quotas");
        }
        for (const auto& [quota, entry] : json.items()) {
            QuotaResetMark mark;
            mark.period_begin = std::chrono::sys_seconds(
                std::chrono::seconds(entry.at("period_begin").get<std::int64_t>()));
            for (const auto& one : entry.at("booked")) {
                BackendKind backend = no_backend;
                if (one.contains("backend")) {
                    const auto* named = backend_named(one.at("backend").get<std::string>());
                    if (named == nullptr) {
                        throw StateError("unknown backend " + one.at("backend").dump());
                    }
                    backend = named->kind;
                }
                mark.booked[{backend, one.at("counter").get<std::string>(),
                             one.at("host").get<std::string>()}] =
                    one.at("bytes").get<std::uint64_t>();
            }
            out[quota] = std::move(mark);
        }
    } catch (const nlohmann::json::exception& error) {
        throw StateError(std::string("not the quota reset marks' format: ") + error.what());
    }
    return out;
}

QuotaStarts quota_starts(const PolicyTotals& totals, const std::vector<CompiledQuota>& quotas,
                         std::chrono::sys_seconds now, const QuotaResetMarks& marks) {
    QuotaStarts out;
    for (const auto& quota : quotas) {
        const periods::Period period = quota_period(quota.period, quota.start_day, now);
        const auto marked = marks.find(quota.name);
        const QuotaResetMark* mark =
            marked != marks.end() && marked->second.period_begin == period.begin ? &marked->second
                                                                                 : nullptr;
        // Per backend: what it counted in all, and per host.
        std::map<BackendKind, std::uint64_t> used_by;
        std::map<BackendKind, std::map<std::string, std::uint64_t>> hosts_by;
        for (const auto& [key, series] : totals.series) {
            if (key.host.empty() != !quota.per_host ||
                !std::binary_search(quota.counters.begin(), quota.counters.end(), key.counter)) {
                continue;
            }
            std::uint64_t bytes = total_in(series, period, period_length(quota.period)).bytes;
            if (mark != nullptr) {
                // Only what was booked since the reset by hand; never below zero.
                const auto before = mark->booked.find(key);
                bytes -= before == mark->booked.end() ? 0 : std::min(bytes, before->second);
            }
            (quota.per_host ? hosts_by[key.backend][key.host] : used_by[key.backend]) += bytes;
        }
        std::uint64_t used = 0;
        for (const auto& [backend, bytes] : used_by) {
            used = std::max(used, bytes);
        }
        std::map<std::string, std::uint64_t> hosts;
        for (const auto& [backend, by_host] : hosts_by) {
            for (const auto& [host, bytes] : by_host) {
                hosts[host] = std::max(hosts[host], bytes);
            }
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
