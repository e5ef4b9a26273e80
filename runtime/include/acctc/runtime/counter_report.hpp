// Human and machine renderings of counter readings for `acctc counters`.
#pragma once

#include "acctc/runtime/backend.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace acctc::runtime {

// 1234567 -> "1.23M" (SI, for packets); exact prints every digit.
std::string format_count(std::uint64_t value, bool exact);
// 1536 -> "1.54kB" (SI, like every unit acctc prints); exact prints "1536".
std::string format_bytes(std::uint64_t value, bool exact);

// Aligned columns: POLICY COUNTER (the family), one column per dimension any counter has
// (DIRECTION PROTOCOL ICMP_TYPE CLASS), PACKETS BYTES ORIGIN; numbers right-aligned; rows
// grouped by policy and family.
std::string format_counter_table(const std::vector<CounterReading>& readings, bool exact);

// As the table, plus per-second rates against the previous readings taken `seconds` earlier.
// Counters absent before (or reset since) show their full value as the change.
std::string format_rate_table(const std::vector<CounterReading>& previous,
                              const std::vector<CounterReading>& current, double seconds,
                              bool exact);

// [{"policy":..., "counter": family, "name": kernel name, "labels": {dimension: value},
//   "packets":..., "bytes":..., "merged": bool, "wire": [difference, ...], "origin":...}, ...]
// "merged": the counter counts packets merged by segmentation or receive offload (fewer than
// the wire carried); "wire": every difference from the wire it can have (docs/counting.md).
nlohmann::json counters_to_json(const std::vector<CounterReading>& readings);

// As counters_to_json, each with what it counted since the previous readings `seconds`
// earlier: "delta_packets", "delta_bytes", "packets_per_second", "bits_per_second".
nlohmann::json rates_to_json(const std::vector<CounterReading>& previous,
                             const std::vector<CounterReading>& current, double seconds);

} // namespace acctc::runtime
