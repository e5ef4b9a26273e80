// Per-host counters at scale: a `split host` set holding N hosts (elements with counters, put
// there the way the packet path would leave them), read and read-and-reset through the runtime
// as `acctc counters` does, in a namespace of this run.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace acctc::bench {

struct HostReadTiming {
    std::size_t hosts = 0;
    std::size_t read = 0;         // host readings of the first read: should be `hosts`
    std::vector<double> read_ms;  // one per repetition
    std::vector<double> reset_ms; // list-and-zero, one per repetition
    double median_read_ms = 0;
    double median_reset_ms = 0;
    // The CPU time (user + system) the reads took: on a loaded machine the wall-clock times
    // above include waiting for a CPU.
    std::vector<double> read_cpu_ms;
    std::vector<double> reset_cpu_ms;
    double median_read_cpu_ms = 0;
    double median_reset_cpu_ms = 0;
};

std::vector<HostReadTiming>
run_host_read_timing(const std::vector<std::size_t>& host_counts, unsigned repetitions,
                     const std::function<void(const std::string&)>& progress);

} // namespace acctc::bench
