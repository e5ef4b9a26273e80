#include "acctc/runtime/counter_report.hpp"

#include "acctc/printable_text.hpp"
#include "text_table.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>

namespace acctc::runtime {
namespace {

std::string scaled(double value, double base, const char* const* units, std::size_t count) {
    std::size_t unit = 0;
    while (value >= base && unit + 1 < count) {
        value /= base;
        ++unit;
    }
    char text[32];
    if (unit == 0) {
        std::snprintf(text, sizeof text, "%.0f%s", value, units[0]);
    } else {
        std::snprintf(text, sizeof text, "%.2f%s", value, units[unit]);
    }
    return text;
}

} // namespace

std::string render_table(const std::vector<Row>& given, const std::vector<bool>& numeric) {
    const auto escaped = printable_rows(given); // one row, one line (text_table.hpp)
    const std::vector<Row>& rows = escaped ? *escaped : given;
    std::vector<std::size_t> width(numeric.size(), 0);
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            width[i] = std::max(width[i], text_columns(row[i]));
        }
    }
    // Written straight into the output, no string per cell or line: 100,000 counters are
    // 600,000 cells.
    std::size_t line_width = 0;
    for (const std::size_t w : width) {
        line_width += w + 2;
    }
    std::string out;
    out.reserve(rows.size() * (line_width + 1));
    for (const auto& row : rows) {
        const std::size_t line_start = out.size();
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i != 0) {
                out.append(2, ' ');
            }
            const std::size_t pad = width[i] - text_columns(row[i]);
            if (numeric[i]) {
                out.append(pad, ' ');
                out += row[i];
            } else {
                out += row[i];
                out.append(pad, ' ');
            }
        }
        const std::size_t end = out.find_last_not_of(' ');
        out.resize(end == std::string::npos || end < line_start ? line_start : end + 1);
        out += '\n';
    }
    return out;
}

namespace {

// What each current counter counted since the previous readings; counters absent before (or
// reset since) count their full value.
struct Change {
    const CounterReading* reading;
    std::uint64_t packets;
    std::uint64_t bytes;
};

std::vector<Change> changes_since(const std::vector<CounterReading>& previous,
                                  const std::vector<CounterReading>& current) {
    // The hosts of a `split host` counter share its name: the host label tells them apart.
    const auto key = [](const CounterSample& sample) {
        return std::tuple(sample.policy, sample.counter, sample.label(Dimension::host));
    };
    std::map<std::tuple<std::string, std::string, std::string>, const CounterSample*> before;
    for (const auto& reading : previous) {
        before[key(reading.sample)] = &reading.sample;
    }
    std::vector<Change> changes;
    for (const auto& reading : current) {
        const CounterSample& now = reading.sample;
        const auto found = before.find(key(now));
        const CounterSample* then = found == before.end() ? nullptr : found->second;
        const bool continued =
            then != nullptr && then->packets <= now.packets && then->bytes <= now.bytes;
        changes.push_back({&reading, continued ? now.packets - then->packets : now.packets,
                           continued ? now.bytes - then->bytes : now.bytes});
    }
    return changes;
}

double per_second(std::uint64_t value, double seconds) {
    return seconds > 0 ? static_cast<double>(value) / seconds : 0.0;
}

// Rows grouped by policy and family (in first-seen order), each group in reading order.
std::vector<const CounterReading*> grouped(const std::vector<CounterReading>& readings) {
    // Views of the readings' own strings, and the previous reading's group tried first: a
    // policy's readings mostly come family by family (100,000 of them).
    using Key = std::pair<std::string_view, std::string_view>;
    std::map<Key, std::size_t> first;
    std::vector<std::pair<std::size_t, const CounterReading*>> keyed;
    keyed.reserve(readings.size());
    std::optional<std::pair<Key, std::size_t>> last;
    for (const auto& reading : readings) {
        const auto& s = reading.sample;
        const Key key{s.policy, s.family_or_name()};
        if (!last || last->first != key) {
            last.emplace(key, first.emplace(key, first.size()).first->second);
        }
        keyed.emplace_back(last->second, &reading);
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<const CounterReading*> out;
    out.reserve(keyed.size());
    for (const auto& [group, reading] : keyed) {
        out.push_back(reading);
    }
    return out;
}

// The dimensions any reading has: one column each, in Dimension order.
std::vector<Dimension> used_dimensions(const std::vector<CounterReading>& readings) {
    std::vector<Dimension> out;
    for (Dimension d : all_dimensions) {
        if (std::any_of(readings.begin(), readings.end(),
                        [&](const auto& r) { return !r.sample.label(d).empty(); })) {
            out.push_back(d);
        }
    }
    return out;
}

// POLICY COUNTER <dimensions...> followed by `tail`; numeric marks the right-aligned columns.
std::pair<Row, std::vector<bool>> header(const std::vector<Dimension>& dimensions,
                                         const std::vector<std::string>& tail,
                                         std::size_t numeric_tail) {
    Row row{"POLICY", "COUNTER"};
    for (Dimension d : dimensions) {
        std::string name(dimension_name(d));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](char c) { return static_cast<char>(std::toupper(c)); });
        row.push_back(name);
    }
    std::vector<bool> numeric(row.size(), false);
    for (std::size_t i = 0; i < tail.size(); ++i) {
        row.push_back(tail[i]);
        numeric.push_back(i < numeric_tail);
    }
    return {row, numeric};
}

Row identity_cells(const CounterSample& sample, const std::vector<Dimension>& dimensions) {
    Row row{sample.policy, sample.family_or_name()};
    for (Dimension d : dimensions) {
        row.push_back(sample.label(d));
    }
    return row;
}

} // namespace

std::string format_count(std::uint64_t value, bool exact) {
    static const char* const units[] = {"", "k", "M", "G", "T", "P", "E"};
    return exact ? std::to_string(value)
                 : scaled(static_cast<double>(value), 1000.0, units, std::size(units));
}

// SI (powers of 1000) for bytes as for packets and bit rates, like the graphs (rrdtool --base
// 1000), Grafana's "bytes(SI)" and what ISPs meter: one convention everywhere acctc prints.
std::string format_bytes(std::uint64_t value, bool exact) {
    static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    return exact ? std::to_string(value)
                 : scaled(static_cast<double>(value), 1000.0, units, std::size(units));
}

std::string format_counter_table(const std::vector<CounterReading>& readings, bool exact) {
    const auto dimensions = used_dimensions(readings);
    auto [head, numeric] = header(dimensions, {"PACKETS", "BYTES", "ORIGIN"}, 2);
    std::vector<Row> rows{head};
    for (const CounterReading* reading : grouped(readings)) {
        Row row = identity_cells(reading->sample, dimensions);
        row.insert(row.end(), {format_count(reading->sample.packets, exact),
                               format_bytes(reading->sample.bytes, exact), reading->origin()});
        rows.push_back(std::move(row));
    }
    return render_table(rows, numeric);
}

std::string format_rate_table(const std::vector<CounterReading>& previous,
                              const std::vector<CounterReading>& current, double seconds,
                              bool exact) {
    const auto dimensions = used_dimensions(current);
    auto [head, numeric] = header(dimensions, {"PACKETS", "BYTES", "PACKETS/S", "BITS/S"}, 4);
    std::vector<Row> rows{head};
    std::map<const CounterReading*, const Change*> change_of;
    const auto changes = changes_since(previous, current);
    for (const auto& change : changes) {
        change_of[change.reading] = &change;
    }
    for (const CounterReading* reading : grouped(current)) {
        const Change& change = *change_of.at(reading);
        const CounterSample& now = reading->sample;
        Row row = identity_cells(now, dimensions);
        row.insert(
            row.end(),
            {format_count(now.packets, exact), format_bytes(now.bytes, exact),
             format_count(static_cast<std::uint64_t>(per_second(change.packets, seconds) + 0.5),
                          exact),
             format_count(static_cast<std::uint64_t>(per_second(change.bytes, seconds) * 8 + 0.5),
                          exact)});
        rows.push_back(std::move(row));
    }
    return render_table(rows, numeric);
}

nlohmann::json rates_to_json(const std::vector<CounterReading>& previous,
                             const std::vector<CounterReading>& current, double seconds) {
    nlohmann::json list = counters_to_json(current);
    const auto changes = changes_since(previous, current);
    for (std::size_t i = 0; i < changes.size(); ++i) {
        list[i]["delta_packets"] = changes[i].packets;
        list[i]["delta_bytes"] = changes[i].bytes;
        list[i]["packets_per_second"] = per_second(changes[i].packets, seconds);
        list[i]["bits_per_second"] = per_second(changes[i].bytes, seconds) * 8;
    }
    return list;
}

nlohmann::json counters_to_json(const std::vector<CounterReading>& readings) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& reading : readings) {
        nlohmann::json labels = nlohmann::json::object();
        for (const auto& label : reading.sample.labels()) {
            labels[std::string(dimension_name(label.dimension))] = label.value;
        }
        nlohmann::json wire = nlohmann::json::array();
        for (WireDifference d : all_wire_differences) {
            if (reading.sample.wire.has(d)) {
                wire.push_back(std::string(wire_difference_name(d)));
            }
        }
        list.push_back({{"policy", reading.sample.policy},
                        {"counter", reading.sample.family_or_name()},
                        {"name", reading.sample.counter},
                        {"labels", std::move(labels)},
                        {"packets", reading.sample.packets},
                        {"bytes", reading.sample.bytes},
                        {"merged", reading.sample.wire.merged()},
                        {"wire", std::move(wire)},
                        {"origin", reading.origin()}});
    }
    return list;
}

} // namespace acctc::runtime
