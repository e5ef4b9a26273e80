#include "acctc/runtime/counter_report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

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

using Row = std::vector<std::string>;

// Left-aligns text columns and right-aligns the numeric ones.
std::string render(const std::vector<Row>& rows, const std::vector<bool>& numeric) {
    std::vector<std::size_t> width(numeric.size(), 0);
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            const std::string pad(width[i] - row[i].size(), ' ');
            line += (i == 0 ? "" : "  ") + (numeric[i] ? pad + row[i] : row[i] + pad);
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out += line + "\n";
    }
    return out;
}

// What each current counter counted since the previous readings; counters absent before (or
// reset since) count their full value.
struct Change {
    const CounterReading* reading;
    std::uint64_t packets;
    std::uint64_t bytes;
};

std::vector<Change> changes_since(const std::vector<CounterReading>& previous,
                                  const std::vector<CounterReading>& current) {
    std::map<std::pair<std::string, std::string>, const CounterSample*> before;
    for (const auto& reading : previous) {
        before[{reading.sample.policy, reading.sample.counter}] = &reading.sample;
    }
    std::vector<Change> changes;
    for (const auto& reading : current) {
        const CounterSample& now = reading.sample;
        const auto found = before.find({now.policy, now.counter});
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
    std::vector<Row> rows{{"POLICY", "COUNTER", "PACKETS", "BYTES", "ORIGIN"}};
    for (const auto& reading : readings) {
        rows.push_back({reading.sample.policy, reading.sample.counter,
                        format_count(reading.sample.packets, exact),
                        format_bytes(reading.sample.bytes, exact), reading.origin});
    }
    return render(rows, {false, false, true, true, false});
}

std::string format_rate_table(const std::vector<CounterReading>& previous,
                              const std::vector<CounterReading>& current, double seconds,
                              bool exact) {
    std::vector<Row> rows{{"POLICY", "COUNTER", "PACKETS", "BYTES", "PACKETS/S", "BITS/S"}};
    for (const auto& change : changes_since(previous, current)) {
        const CounterSample& now = change.reading->sample;
        rows.push_back(
            {now.policy, now.counter, format_count(now.packets, exact),
             format_bytes(now.bytes, exact),
             format_count(static_cast<std::uint64_t>(per_second(change.packets, seconds) + 0.5),
                          exact),
             format_count(static_cast<std::uint64_t>(per_second(change.bytes, seconds) * 8 + 0.5),
                          exact)});
    }
    return render(rows, {false, false, true, true, true, true});
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
        list.push_back({{"policy", reading.sample.policy},
                        {"counter", reading.sample.counter},
                        {"packets", reading.sample.packets},
                        {"bytes", reading.sample.bytes},
                        {"origin", reading.origin}});
    }
    return list;
}

} // namespace acctc::runtime
