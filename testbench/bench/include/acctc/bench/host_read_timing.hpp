// Per-host counters at scale: a `split host` set holding N hosts (elements with counters, put
// there the way the packet path would leave them), read and read-and-reset through the runtime
// as `acctc counters` does, in a namespace of this run.
#pragma once

#include "acctc/bench/read_timing.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace acctc::bench {

struct HostReadTiming {
    std::size_t hosts = 0;
    std::size_t read = 0; // host readings of the first read: should be `hosts`
    ReadTimings reads;
};

std::vector<HostReadTiming>
run_host_read_timing(const std::vector<std::size_t>& host_counts, unsigned repetitions,
                     const std::function<void(const std::string&)>& progress);

} // namespace acctc::bench
