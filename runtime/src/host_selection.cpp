#include "acctc/runtime/host_selection.hpp"

#include <algorithm>

namespace acctc::runtime {
namespace {

bool listed(const std::vector<std::string>& wanted, const std::string& a, const std::string& b) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), a) != wanted.end() ||
           std::find(wanted.begin(), wanted.end(), b) != wanted.end();
}

} // namespace

std::vector<CounterReading> select_readings(std::vector<CounterReading> readings,
                                            const CounterSelection& selection) {
    std::erase_if(readings, [&](const CounterReading& r) {
        return !listed(selection.counters, r.sample.counter, r.sample.family) ||
               (!selection.hosts.empty() &&
                !listed(selection.hosts, r.sample.label(Dimension::host), {}));
    });
    if (selection.sort) {
        const auto value = [&](const CounterReading& r) {
            return *selection.sort == SortKey::bytes ? r.sample.bytes : r.sample.packets;
        };
        std::stable_sort(readings.begin(), readings.end(),
                         [&](const auto& a, const auto& b) { return value(a) > value(b); });
    }
    if (selection.top && readings.size() > *selection.top) {
        readings.resize(*selection.top);
    }
    return readings;
}

} // namespace acctc::runtime
