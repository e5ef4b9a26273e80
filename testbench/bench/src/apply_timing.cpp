#include "acctc/bench/apply_timing.hpp"

#include "acctc/bench/bench_policy.hpp"
#include "acctc/bench/datapath.hpp"
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/testbench/netns.hpp"

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <time.h>

namespace acctc::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// User + system CPU time of this process so far.
double cpu_ms() {
    timespec now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

ApplyTiming time_one(std::size_t classes, unsigned repetitions) {
    ApplyTiming timing;
    const ClassKind kind =
        classes <= max_classes(ClassKind::ports) ? ClassKind::ports : ClassKind::protoport;
    timing.kind = to_string(kind);
    timing.classes = classes;
    const auto policy = make_bench_policy(kind, classes, offline_addressing(), 1);

    auto start = Clock::now();
    auto compiled = compile_source(policy.policy_name + ".acct", policy.source);
    timing.compile_seconds = seconds_since(start);
    if (!compiled.output) {
        throw std::runtime_error("apply timing: the bench policy does not compile");
    }
    timing.ruleset_bytes = compiled.output->text.size();

    const auto netns = testbench::NamedNetns::create(testbench::RunPrefix::current().text() +
                                                     "apply" + std::to_string(classes));
    {
        const auto backend = runtime::make_backend(runtime::BackendKind::nftables, netns.name());
        start = Clock::now();
        backend->apply(*compiled.output, false);
        timing.apply_seconds = seconds_since(start);
        start = Clock::now();
        backend->apply(*compiled.output, false);
        timing.reload_seconds = seconds_since(start);
    }
    for (unsigned rep = 0; rep < repetitions; ++rep) {
        start = Clock::now();
        double cpu_start = cpu_ms();
        // The backend named: the read timed is the kernel's, not a look for where it lives.
        const auto samples = runtime::read_counters(policy.policy_name, netns.name(), false,
                                                    runtime::BackendKind::nftables);
        timing.read_ms.push_back(seconds_since(start) * 1e3);
        timing.read_cpu_ms.push_back(cpu_ms() - cpu_start);
        timing.counters = samples.size();
        start = Clock::now();
        cpu_start = cpu_ms();
        runtime::read_counters(policy.policy_name, netns.name(), true,
                               runtime::BackendKind::nftables);
        timing.reset_ms.push_back(seconds_since(start) * 1e3);
        timing.reset_cpu_ms.push_back(cpu_ms() - cpu_start);
    }
    timing.median_read_ms = median(timing.read_ms);
    timing.median_reset_ms = median(timing.reset_ms);
    timing.median_read_cpu_ms = median(timing.read_cpu_ms);
    timing.median_reset_cpu_ms = median(timing.reset_cpu_ms);
    if (timing.counters != classes + 1) {
        throw std::runtime_error("apply timing: read " + std::to_string(timing.counters) +
                                 " counters, expected " + std::to_string(classes + 1));
    }
    return timing;
}

} // namespace

std::vector<ApplyTiming> run_apply_timing(const std::vector<std::size_t>& sizes,
                                          unsigned repetitions,
                                          const std::function<void(const std::string&)>& progress) {
    std::vector<ApplyTiming> timings;
    for (const auto size : sizes) {
        timings.push_back(time_one(size, repetitions));
        if (progress) {
            const auto& t = timings.back();
            std::ostringstream line;
            line << "apply " << size << " classes: compile " << t.compile_seconds << " s, apply "
                 << t.apply_seconds << " s, reload " << t.reload_seconds << " s, read "
                 << t.median_read_ms << " ms (" << t.median_read_cpu_ms << " ms CPU), reset "
                 << t.median_reset_ms << " ms (" << t.median_reset_cpu_ms << " ms CPU)";
            progress(line.str());
        }
    }
    return timings;
}

} // namespace acctc::bench
