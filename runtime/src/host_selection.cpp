#include "acctc/runtime/host_selection.hpp"

#include <algorithm>

namespace acctc::runtime {
std::vector<CounterReading> select_readings(std::vector<CounterReading> readings,
                                            const CounterSelection& selection) {
    if (!selection.hosts.empty()) {
        std::erase_if(readings, [&](const CounterReading& r) {
            return std::find(selection.hosts.begin(), selection.hosts.end(),
                             r.sample.label(Dimension::host)) == selection.hosts.end();
        });
    }
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
