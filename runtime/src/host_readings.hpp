// The readings of a table's `split host` sets (docs/language.md): one per host, merged with the
// table's named counters into the order `counters` reports.
#pragma once

#include "acctc/runtime/backend.hpp"
#include "nft_host_counters.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

// `named` (one table's named counters, any order) and a reading per element of `sets`, sorted by
// counter and then by host address text (a counter's hosts from all its sets together: the parts
// of a large set, its IPv4 and IPv6 sets). A host's reading is its set's counter
// (host_counter_name) with the set's family and labels plus host=ADDRESS. Each reading is
// built once, in its place: at 65,536 hosts, moving readings around cost more than reading them.
std::vector<CounterReading> with_host_readings(std::vector<CounterReading> named,
                                               const std::vector<KernelHostSet>& sets,
                                               const std::string& policy);

} // namespace acctc::runtime
