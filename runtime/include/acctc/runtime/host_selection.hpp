// Choosing among per-host counters (`split host`): filter by host, sort, keep the top N
// (`acctc counters --host --sort --top`; docs/runtime.md, "Per-host counters"). Counters are
// selected by the COUNTER arguments before this.
#pragma once

#include "acctc/runtime/backend.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

enum class SortKey { bytes, packets };

struct CounterSelection {
    std::vector<std::string> hosts; // host label values; empty: every reading
    std::optional<SortKey> sort;    // descending; ties keep the reading order
    std::optional<std::size_t> top; // after sorting
};

std::vector<CounterReading> select_readings(std::vector<CounterReading> readings,
                                            const CounterSelection& selection);

} // namespace acctc::runtime
