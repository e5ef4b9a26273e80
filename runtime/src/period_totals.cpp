#include "acctc/runtime/period_totals.hpp"

#include "acctc/runtime/backend.hpp"

#include <algorithm>
#include <set>

namespace acctc::runtime {
namespace {

using std::chrono::sys_seconds;

constexpr const char* format_name = "acctc-totals";
// 2: each series has its backend; 1 had none (one series per counter whatever the backend).
constexpr int format_version = 2;

// Keeps the newest `keep` buckets.
void prune(std::map<std::int64_t, Amount>& buckets, std::size_t keep) {
    while (buckets.size() > keep) {
        buckets.erase(buckets.begin());
    }
}

void add(Series& series, const Amount& amount, sys_seconds now) {
    using periods::Length;
    const auto hour = periods::containing(now, Length::hour).begin.time_since_epoch().count();
    const auto day = periods::containing(now, Length::day).begin.time_since_epoch().count();
    series.hours[hour] += amount;
    series.days[day] += amount;
    prune(series.hours, kept_hours);
    prune(series.days, kept_days);
}

Amount amount_of(const CounterSample& sample) {
    return {sample.packets, sample.bytes};
}

// What the counter counted since `baseline`: a counter that went down started again from zero.
Amount since(const std::optional<Amount>& baseline, const Amount& value) {
    if (!baseline || value.packets < baseline->packets || value.bytes < baseline->bytes) {
        return value;
    }
    return {value.packets - baseline->packets, value.bytes - baseline->bytes};
}

Series& series_for(PolicyTotals& totals, const CounterSample& sample) {
    Series& series = totals.series[key_of(sample)];
    series.family = sample.family_or_name();
    series.labels = sample.labels();
    return series;
}

[[noreturn]] void damaged(const std::string& what) {
    throw StateError("damaged totals: " + what);
}

std::uint64_t unsigned_field(const nlohmann::json& json, std::size_t index,
                             const std::string& where) {
    if (!json.is_array() || index >= json.size() || !json[index].is_number_unsigned()) {
        damaged(where + " is not a list of non-negative whole numbers");
    }
    return json[index].get<std::uint64_t>();
}

nlohmann::json buckets_to_json(const std::map<std::int64_t, Amount>& buckets) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [begin, amount] : buckets) {
        list.push_back({begin, amount.packets, amount.bytes});
    }
    return list;
}

std::map<std::int64_t, Amount> buckets_from_json(const nlohmann::json& json,
                                                 const std::string& where) {
    if (!json.is_array()) {
        damaged(where + " is not a list");
    }
    std::map<std::int64_t, Amount> buckets;
    for (const auto& bucket : json) {
        if (!bucket.is_array() || bucket.size() != 3 || !bucket[0].is_number_integer()) {
            damaged(where + " holds an entry that is not [start, packets, bytes]");
        }
        const auto begin = bucket[0].get<std::int64_t>();
        const Amount amount{unsigned_field(bucket, 1, where), unsigned_field(bucket, 2, where)};
        if (!buckets.emplace(begin, amount).second) {
            damaged(where + " holds the period starting at " + std::to_string(begin) + " twice");
        }
    }
    return buckets;
}

const nlohmann::json& member(const nlohmann::json& json, const char* name,
                             const std::string& where) {
    if (!json.is_object() || !json.contains(name)) {
        damaged(where + " has no \"" + name + "\"");
    }
    return json[name];
}

std::string string_member(const nlohmann::json& json, const char* name, const std::string& where) {
    const auto& value = member(json, name, where);
    if (!value.is_string()) {
        damaged(where + "'s \"" + name + "\" is not a string");
    }
    return value.get<std::string>();
}

} // namespace

SeriesKey key_of(const CounterSample& sample) {
    return {sample.backend, sample.counter, sample.label(Dimension::host)};
}

Booked book(PolicyTotals& totals, const std::vector<CounterSample>& readings, sys_seconds now,
            AfterReading after) {
    Booked booked;
    std::set<SeriesKey> present;
    std::set<BackendKind> read;
    for (const auto& sample : readings) {
        Series& series = series_for(totals, sample);
        present.insert(key_of(sample));
        read.insert(sample.backend);
        const Amount delta = since(series.baseline, amount_of(sample));
        add(series, delta, now);
        ++booked.readings;
        booked.changed += delta != Amount{};
        series.baseline = after == AfterReading::zeroed ? Amount{} : amount_of(sample);
    }
    for (auto& [key, series] : totals.series) {
        if (read.count(key.backend) != 0 && present.count(key) == 0) {
            series.baseline.reset();
        }
    }
    totals.last_booking = now;
    return booked;
}

void book_final(PolicyTotals& totals, const std::vector<CounterSample>& finals, sys_seconds now) {
    for (const auto& sample : finals) {
        Series& series = series_for(totals, sample);
        add(series, since(series.baseline, amount_of(sample)), now);
        series.baseline.reset();
    }
    totals.last_booking = now;
}

void forget_baselines(PolicyTotals& totals, BackendKind backend,
                      const std::vector<std::string>& kept) {
    for (auto& [key, series] : totals.series) {
        if (key.backend == backend &&
            std::find(kept.begin(), kept.end(), key.counter) == kept.end()) {
            series.baseline.reset();
        }
    }
}

void merge_backend(PolicyTotals& totals, BackendKind from, BackendKind to) {
    if (from == to) {
        return;
    }
    const auto larger = [](std::map<std::int64_t, Amount>& into,
                           const std::map<std::int64_t, Amount>& other) {
        for (const auto& [start, amount] : other) {
            auto& kept = into[start];
            kept = {std::max(kept.packets, amount.packets), std::max(kept.bytes, amount.bytes)};
        }
    };
    for (auto it = totals.series.begin(); it != totals.series.end();) {
        if (it->first.backend != from) {
            ++it;
            continue;
        }
        auto node = totals.series.extract(it++);
        node.key().backend = to;
        if (const auto same = totals.series.find(node.key()); same != totals.series.end()) {
            larger(same->second.hours, node.mapped().hours);
            larger(same->second.days, node.mapped().days);
        } else {
            totals.series.insert(std::move(node));
        }
    }
}

Amount total_in(const Series& series, const periods::Period& period, periods::Length length) {
    const auto& buckets = length == periods::Length::hour ? series.hours : series.days;
    Amount total;
    const auto end = buckets.lower_bound(period.end.time_since_epoch().count());
    for (auto it = buckets.lower_bound(period.begin.time_since_epoch().count()); it != end; ++it) {
        total += it->second;
    }
    return total;
}

nlohmann::json to_json(const PolicyTotals& totals) {
    nlohmann::json series = nlohmann::json::array();
    for (const auto& [key, one] : totals.series) {
        nlohmann::json labels = nlohmann::json::object();
        for (const auto& label : one.labels) {
            labels[std::string(dimension_name(label.dimension))] = label.value;
        }
        series.push_back(
            {{"backend", std::string(backend_info(key.backend).name)},
             {"counter", key.counter},
             {"host", key.host},
             {"family", one.family},
             {"labels", std::move(labels)},
             {"baseline", one.baseline ? nlohmann::json{one.baseline->packets, one.baseline->bytes}
                                       : nlohmann::json(nullptr)},
             {"hours", buckets_to_json(one.hours)},
             {"days", buckets_to_json(one.days)}});
    }
    return {{"format", format_name},
            {"version", format_version},
            {"policy", totals.policy},
            {"last_booking", totals.last_booking
                                 ? nlohmann::json(totals.last_booking->time_since_epoch().count())
                                 : nlohmann::json(nullptr)},
            {"series", std::move(series)}};
}

int totals_version(const nlohmann::json& json) {
    const auto version = json.is_object() ? json.value("version", nlohmann::json()) : nullptr;
    return version.is_number_integer() ? version.get<int>() : 0;
}

PolicyTotals totals_from_json(const nlohmann::json& json, BackendKind version1_backend) {
    if (!json.is_object() || json.value("format", "") != format_name) {
        damaged("not an acctc totals file");
    }
    const int version = totals_version(json);
    if (version != 1 && version != format_version) {
        damaged("format version " + json.value("version", nlohmann::json()).dump() +
                " (this acctc reads 1 and " + std::to_string(format_version) + ")");
    }
    PolicyTotals totals;
    totals.policy = string_member(json, "policy", "the file");
    const auto& last = member(json, "last_booking", "the file");
    if (last.is_number_integer()) {
        totals.last_booking = sys_seconds{std::chrono::seconds{last.get<std::int64_t>()}};
    } else if (!last.is_null()) {
        damaged("\"last_booking\" is not a number");
    }
    const auto& list = member(json, "series", "the file");
    if (!list.is_array()) {
        damaged("\"series\" is not a list");
    }
    for (const auto& entry : list) {
        SeriesKey key{version1_backend, string_member(entry, "counter", "a series"),
                      string_member(entry, "host", "a series")};
        std::string where = "series " + key.counter + (key.host.empty() ? "" : "@") + key.host;
        if (version != 1) {
            const auto name = string_member(entry, "backend", where);
            const auto* backend = backend_named(name);
            if (backend == nullptr) {
                damaged(where + "'s backend " + name + " is none of " + backend_names());
            }
            key.backend = backend->kind;
            where += " (" + name + ")";
        }
        Series series;
        series.family = string_member(entry, "family", where);
        const auto& labels = member(entry, "labels", where);
        if (!labels.is_object()) {
            damaged(where + "'s labels are not an object");
        }
        for (const auto dimension : all_dimensions) {
            const std::string name(dimension_name(dimension));
            if (labels.contains(name) && labels[name].is_string()) {
                series.labels.push_back({dimension, labels[name].get<std::string>()});
            }
        }
        const auto& baseline = member(entry, "baseline", where);
        if (!baseline.is_null()) {
            series.baseline = Amount{unsigned_field(baseline, 0, where + "'s baseline"),
                                     unsigned_field(baseline, 1, where + "'s baseline")};
        }
        series.hours = buckets_from_json(member(entry, "hours", where), where + "'s hours");
        series.days = buckets_from_json(member(entry, "days", where), where + "'s days");
        if (!totals.series.emplace(std::move(key), std::move(series)).second) {
            damaged(where + " appears twice");
        }
    }
    return totals;
}

} // namespace acctc::runtime
