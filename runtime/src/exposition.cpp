#include "acctc/runtime/exposition.hpp"

#include "acctc/printable_text.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <tuple>

namespace acctc::runtime {
namespace {

// name{policy="..",counter="..",<dimension>="..",...  (the closing brace is the caller's)
void append_series(std::string& out, const char* name, const CounterSample& sample) {
    out += std::string(name) + "{policy=\"" + escape_label_value(sample.policy) + "\",counter=\"" +
           escape_label_value(sample.family_or_name()) + "\"";
    for (const auto& label : sample.labels()) {
        out += ",";
        out += dimension_name(label.dimension);
        out += "=\"" + escape_label_value(label.value) + "\"";
    }
}

void append_family(std::string& out, const char* name, const char* help,
                   const std::vector<CounterSample>& samples, std::uint64_t CounterSample::*value) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " counter\n";
    for (const auto& sample : samples) {
        append_series(out, name, sample);
        out += "} " + std::to_string(sample.*value) + "\n";
    }
}

// One series per counter and offload that makes it count merged packets: fewer packets (and
// header bytes) than the wire carried (docs/counting.md).
void append_merged(std::string& out, const std::vector<CounterSample>& samples) {
    const char* name = "acctc_offload_merged_info";
    std::string series;
    for (const auto& sample : samples) {
        for (WireDifference d : all_wire_differences) {
            if (merges_packets(d) && sample.wire.has(d)) {
                append_series(series, name, sample);
                series += ",offload=\"" + std::string(wire_difference_name(d)) + "\"} 1\n";
            }
        }
    }
    if (series.empty()) {
        return;
    }
    out += std::string("# HELP ") + name +
           " The counter counts packets merged by this offload, fewer than the wire carried.\n";
    out += std::string("# TYPE ") + name + " gauge\n" + series;
}

} // namespace

std::vector<CounterSample> cap_host_series(const std::vector<CounterSample>& samples,
                                           std::size_t max_hosts) {
    // The counter a host sample belongs to: everything but its host label.
    using Key = std::tuple<std::string, std::string>;
    std::map<Key, std::vector<const CounterSample*>> hosts;
    std::vector<CounterSample> out;
    for (const auto& sample : samples) {
        if (sample.per_host()) {
            hosts[{sample.policy, sample.counter}].push_back(&sample);
        } else {
            out.push_back(sample);
        }
    }
    for (auto& [key, group] : hosts) {
        std::stable_sort(group.begin(), group.end(),
                         [](const auto* a, const auto* b) { return a->bytes > b->bytes; });
        for (std::size_t i = 0; i < group.size() && i < max_hosts; ++i) {
            out.push_back(*group[i]);
        }
        if (group.size() <= max_hosts) {
            continue;
        }
        CounterSample other = *group[max_hosts];
        other.packets = 0;
        other.bytes = 0;
        for (std::size_t i = max_hosts; i < group.size(); ++i) {
            other.packets += group[i]->packets;
            other.bytes += group[i]->bytes;
        }
        other.host = "other";
        out.push_back(std::move(other));
    }
    return out;
}

std::string escape_label_value(std::string_view value) {
    std::string escaped;
    escaped.reserve(value.size());
    for (std::size_t at = 0; at < value.size(); ++at) {
        const char c = value[at];
        // A label value is UTF-8 (the exposition format): a byte that is not would fail the
        // whole scrape, so it becomes U+FFFD as JSON's does.
        if (const std::size_t length = utf8_sequence_length(value, at); length != 1) {
            escaped += length == 0 ? std::string_view("\xef\xbf\xbd") : value.substr(at, length);
            at += length == 0 ? 0 : length - 1;
            continue;
        }
        switch (c) {
        case '\\':
            escaped += "\\\\";
            break;
        case '"':
            escaped += "\\\"";
            break;
        case '\n':
            escaped += "\\n";
            break;
        default:
            escaped += c;
        }
    }
    return escaped;
}

std::string format_prometheus(const std::vector<CounterSample>& all, std::size_t max_hosts) {
    const std::vector<CounterSample> samples = cap_host_series(all, max_hosts);
    std::string out;
    append_family(out, "acctc_packets_total", "Packets counted by an acctc policy counter.",
                  samples, &CounterSample::packets);
    append_family(out, "acctc_bytes_total",
                  "Bytes (layer 3 and up) counted by an acctc policy counter.", samples,
                  &CounterSample::bytes);
    append_merged(out, samples);
    return out;
}

std::string format_quota_prometheus(const std::vector<QuotaReading>& all, std::size_t max_hosts) {
    // Per-host quotas: the most used hosts of each, in the readings' order.
    std::map<std::pair<std::string, std::string>, std::vector<std::uint64_t>> uses;
    for (const auto& r : all) {
        if (!r.host.empty()) {
            uses[{r.policy, r.quota}].push_back(r.used);
        }
    }
    std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::size_t>> cut;
    for (auto& [key, used] : uses) {
        if (max_hosts == 0) {
            cut[key] = {std::numeric_limits<std::uint64_t>::max(), 0};
        } else if (used.size() > max_hosts) {
            std::nth_element(used.begin(),
                             used.begin() + static_cast<std::ptrdiff_t>(max_hosts - 1), used.end(),
                             std::greater<>());
            const std::uint64_t least = used[max_hosts - 1];
            // Hosts above the least kept use, then as many at it as there is room for.
            const auto above = static_cast<std::size_t>(
                std::count_if(used.begin(), used.end(), [&](auto u) { return u > least; }));
            cut[key] = {least, max_hosts - above};
        }
    }
    std::vector<const QuotaReading*> readings;
    for (const auto& r : all) {
        const auto limit = cut.find({r.policy, r.quota});
        if (!r.host.empty() && limit != cut.end()) {
            auto& [least, room] = limit->second;
            if (r.used < least || (r.used == least && room == 0)) {
                continue;
            }
            room -= r.used == least ? 1 : 0;
        }
        readings.push_back(&r);
    }
    std::string out;
    const auto family = [&](const char* name, const char* help,
                            std::uint64_t QuotaReading::*value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
        for (const QuotaReading* r : readings) {
            if (r->per_host && r->host.empty()) {
                continue; // no host yet: no sample
            }
            out += std::string(name) + "{policy=\"" + escape_label_value(r->policy) +
                   "\",quota=\"" + escape_label_value(r->quota) + "\",period=\"" +
                   std::string(period_name(r->identity.period)) + "\"" +
                   (r->per_host ? ",host=\"" + escape_label_value(r->host) + "\"" : "") + "} " +
                   std::to_string(r->*value) + "\n";
        }
    };
    family("acctc_quota_used_bytes", "Bytes charged to an acctc quota in its current period.",
           &QuotaReading::used);
    family("acctc_quota_limit_bytes", "Bytes an acctc quota allows per period.",
           &QuotaReading::limit);
    family("acctc_quota_warning_bytes", "Bytes at which an acctc quota warns.",
           &QuotaReading::warn);
    return out;
}

} // namespace acctc::runtime
