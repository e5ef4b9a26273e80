// Compile timings at scale: the whole `acctc compile` of the bench's policy of N classes of
// every kind, run as the command runs (its own process: start-up, the policy read, the heap it
// reserves, the text written), many times, in CPU time (user + system), which the other work
// of a loaded machine inflates far less than wall time.
#pragma once

#include "acctc/bench/bench_policy.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace acctc::bench {

struct CompileTiming {
    ClassKind kind = ClassKind::ports;
    int ip_version = 0;      // 4 or 6 where the policy's addresses have one, else 0
    std::size_t classes = 0; // asked, or the most the kind holds (ports: 64,535; hosts: one set)
    std::size_t source_bytes = 0;
    std::size_t ruleset_bytes = 0;    // the nft text written
    std::vector<double> cpu_seconds;  // user + system of each run
    std::vector<double> user_seconds; // of each run
    std::vector<double> wall_seconds; // of each run
    double median_cpu_seconds = 0;
    double min_cpu_seconds = 0;
    double max_cpu_seconds = 0;
    double median_user_seconds = 0;
    double median_wall_seconds = 0;
};

// For every kind and size (and, for networks and hosts, every IP version) `repetitions` runs of
// `acctc compile`: this process's own executable, which must be acctc.
std::vector<CompileTiming>
run_compile_timing(const std::vector<ClassKind>& kinds, const std::vector<std::size_t>& sizes,
                   const std::vector<int>& ip_versions, unsigned repetitions,
                   const std::function<void(const std::string&)>& progress);

} // namespace acctc::bench
