// Per-host counters at scale: a `split host` set holding N hosts (elements with counters, put
// there the way the packet path would leave them), read and read-and-reset through the runtime
// as `acctc counters` does, in a namespace of this run.
#pragma once

#include "acctc/bench/read_timing.hpp"
#include "acctc/runtime/bpf_host_counter.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace acctc::bench {

// The BPF experiment's per-host counters (acctc/runtime/bpf_host_counter.hpp).
using runtime::BpfHostCount;
using runtime::BpfHostCounter;
using runtime::BpfHostCounts;
using runtime::BpfHostMap;

// The same hosts in the BPF experiment's maps: a read is
// BPF_MAP_LOOKUP_BATCH of every host, a reset BPF_MAP_LOOKUP_AND_DELETE_BATCH (the maps are
// filled again, untimed, before each read).
struct BpfReadTiming {
    BpfHostMap map = BpfHostMap::hash;
    std::size_t read = 0; // hosts of the first read: should be `hosts`
    ReadTimings reads;
};

struct HostReadTiming {
    std::size_t hosts = 0;
    std::size_t read = 0; // host readings of the first read: should be `hosts`
    ReadTimings reads;
    std::vector<BpfReadTiming> bpf;
    std::vector<std::string> bpf_notes; // why a map kind is not in `bpf`
    // Wall time of membarrier(MEMBARRIER_CMD_GLOBAL), one synchronize_rcu(): what waiting for
    // every running BPF program costs, the step an exact reset by swapping maps needs.
    double median_rcu_wait_ms = 0;
};

std::vector<HostReadTiming>
run_host_read_timing(const std::vector<std::size_t>& host_counts, unsigned repetitions,
                     const std::function<void(const std::string&)>& progress);

} // namespace acctc::bench
