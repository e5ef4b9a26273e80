// Reading a policy's counters at scale: a read and a read-and-reset (list-and-zero) through the
// runtime, as `acctc counters` does, timed in wall and CPU time. Shared by the apply timings
// (named counters) and the host read timings (per-host set elements).
#pragma once

#include "acctc/runtime/counter_sample.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace acctc::bench {

struct ReadTimings {
    std::vector<double> read_ms;  // one per repetition
    std::vector<double> reset_ms; // list-and-zero, one per repetition
    double median_read_ms = 0;
    double median_reset_ms = 0;
    // The same reads in CPU time (user + system) of this process, which a loaded machine
    // inflates less than wall time; the kernel's share is system time spent in our calls.
    std::vector<double> read_cpu_ms;
    std::vector<double> reset_cpu_ms;
    double median_read_cpu_ms = 0;
    double median_reset_cpu_ms = 0;
    // Of that CPU time, the system part: the kernel's work for our calls (for a dump, filling
    // the replies), apart from acctc's own (user) part.
    std::vector<double> read_system_ms;
    std::vector<double> reset_system_ms;
    double median_read_system_ms = 0;
    double median_reset_system_ms = 0;
};

// CPU seconds of this process so far: user + system, and the system part of it.
struct CpuTimes {
    double total = 0;
    double system = 0;
};
CpuTimes cpu_times();
// cpu_times().total.
double cpu_seconds();

// `repetitions` times a read, then a read-and-reset, of the nft table of `policy` in `netns`;
// `first_read` gets the samples of the first read (to check what was read).
ReadTimings
time_reads(const std::string& policy, const std::string& netns, unsigned repetitions,
           const std::function<void(const std::vector<runtime::CounterSample>&)>& first_read);

// The timings as fields of a bench JSON object: read_ms, median_read_ms, read_cpu_ms, ...
void add_read_timings(nlohmann::json& object, const ReadTimings& timings);

// "read X ms (Y ms CPU, Z system), reset ...": the medians, for progress lines.
std::string describe(const ReadTimings& timings);

} // namespace acctc::bench
