#include "acctc/recording/host_series.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace acctc::recording {
namespace {

// The sample as the series of its host (or of `other`).
runtime::CounterSample as_series(const runtime::CounterSample& sample, std::string_view host) {
    runtime::CounterSample series = sample;
    series.counter = host_series_name(sample.counter, host);
    series.host = host;
    return series;
}

} // namespace

std::string host_series_name(std::string_view counter, std::string_view host) {
    return std::string(counter) + "@" + std::string(host);
}

std::vector<runtime::CounterSample>
host_series(const std::vector<runtime::CounterSample>& samples, std::size_t top,
            const std::function<bool(const runtime::CounterSample& series)>& recorded) {
    std::vector<runtime::CounterSample> out;
    std::map<std::pair<std::string, std::string>, std::vector<const runtime::CounterSample*>> hosts;
    for (const auto& sample : samples) {
        if (sample.per_host()) {
            hosts[{sample.policy, sample.counter}].push_back(&sample);
        } else {
            out.push_back(sample);
        }
    }
    for (auto& [counter, members] : hosts) {
        // Most bytes first; ties by packets, then address, so a run is deterministic.
        std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) {
            return std::tuple(b->bytes, b->packets, a->label(Dimension::host)) <
                   std::tuple(a->bytes, a->packets, b->label(Dimension::host));
        });
        runtime::CounterSample other = as_series(*members.front(), other_hosts_label);
        other.packets = 0;
        other.bytes = 0;
        for (std::size_t i = 0; i < members.size(); ++i) {
            runtime::CounterSample series =
                as_series(*members[i], members[i]->label(Dimension::host));
            if (i < top || recorded(series)) {
                out.push_back(std::move(series));
            } else {
                other.packets += members[i]->packets;
                other.bytes += members[i]->bytes;
            }
        }
        out.push_back(std::move(other));
    }
    return out;
}

} // namespace acctc::recording
