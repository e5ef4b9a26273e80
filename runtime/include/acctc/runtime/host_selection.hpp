// Choosing among per-host counters (`split host`): filter by host, sort, keep the top N
// (`acctc counters --host --sort --top`; docs/runtime.md, "Per-host counters"). Counters are
// selected by the COUNTER arguments before this.
#pragma once

#include "acctc/runtime/backend.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

enum class SortKey { bytes, packets };

struct CounterSelection {
    std::vector<std::string> hosts; // host label values; empty: every reading
    std::optional<SortKey> sort;    // descending; ties keep the reading order
    std::optional<std::size_t> top; // after sorting
};

// A host address as every backend labels a host: IPv4 and IPv6 as inet_ntop writes them
// (2001:DB8:0::5 is 2001:db8::5), a MAC in lower case; nullopt for anything else.
std::optional<std::string> canonical_host_address(std::string_view text);

std::vector<CounterReading> select_readings(std::vector<CounterReading> readings,
                                            const CounterSelection& selection);

} // namespace acctc::runtime
