// Choosing among per-host counters (`split host`): filter by counter and host, sort, keep the
// top N (`acctc counters --counter --host --sort --top`; docs/runtime.md, "Per-host counters").
#pragma once

#include "acctc/runtime/backend.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

enum class SortKey { bytes, packets };

struct CounterSelection {
    std::vector<std::string> counters; // a counter's name or family; empty: every counter
    std::vector<std::string> hosts;    // host label values; empty: every reading
    std::optional<SortKey> sort;       // descending; ties keep the reading order
    std::optional<std::size_t> top;    // after sorting
};

std::vector<CounterReading> select_readings(std::vector<CounterReading> readings,
                                            const CounterSelection& selection);

} // namespace acctc::runtime
