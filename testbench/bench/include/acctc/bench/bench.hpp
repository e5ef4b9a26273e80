// `acctc bench`: the whole performance run (data path, then apply and counter reads), the
// machine it ran on, and its rendering as a table or as JSON.
#pragma once

#include "acctc/bench/apply_timing.hpp"
#include "acctc/bench/compile_timing.hpp"
#include "acctc/bench/datapath.hpp"
#include "acctc/bench/host_read_timing.hpp"

#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace acctc::bench {

struct BenchOptions {
    DatapathOptions datapath;
    std::vector<std::size_t> apply_sizes; // empty: no apply timings
    unsigned apply_repetitions = 5;
    std::vector<std::size_t> host_read_counts; // per-host read timings; empty: none
    // Whole `acctc compile` of every kind (IP versions: the data path's); empty: none.
    std::vector<ClassKind> compile_kinds;
    std::vector<std::size_t> compile_sizes;
    unsigned compile_repetitions = 11;
    bool quick = false; // recorded in the report
};

// Full run: 10..10,000 classes of every kind and 65,536 hosts, 41 repetitions of 50 ms, apply on
// 10k and 100k, per-host reads of 65,536, 11 compiles of 100,000 classes of every kind.
BenchOptions default_bench_options();
// Smoke-sized: 3 repetitions of 100 ms, 1,000 hosts, apply and 3 compiles on 1,000 classes.
BenchOptions quick_bench_options();

struct MachineInfo {
    unsigned cpus = 0;
    std::string kernel;
    std::string cpu_model;
    double load_start = 0; // 1-minute load average when the run started
    double load_end = 0;
};

struct BenchReport {
    BenchOptions options;
    MachineInfo machine;
    DatapathReport datapath;
    std::vector<ApplyTiming> apply;
    std::vector<HostReadTiming> host_reads;
    std::vector<CompileTiming> compile;
    double seconds = 0;
};

// Removes namespaces left by dead runs first; everything it creates it removes again.
BenchReport run_bench(const BenchOptions& options,
                      const std::function<void(const std::string&)>& progress);

nlohmann::json to_json(const BenchReport& report);
void print_table(std::ostream& out, const BenchReport& report);

} // namespace acctc::bench
