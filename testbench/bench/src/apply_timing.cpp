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

namespace acctc::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `step` and stores its wall and CPU seconds.
template <typename Step>
void timed(double& wall, double& cpu, Step step) {
    const double cpu_start = cpu_seconds();
    const auto start = Clock::now();
    step();
    wall = seconds_since(start);
    cpu = cpu_seconds() - cpu_start;
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
    // The same policy with class c0 matching the port below its own, which no class has.
    std::string changed_source = policy.source;
    const std::size_t line = changed_source.find("    c0: ");
    const std::size_t port = changed_source.find(" dport ", line) + 7;
    const std::size_t end = changed_source.find('\n', port);
    changed_source.replace(port, end - port,
                           std::to_string(std::stoul(changed_source.substr(port, end - port)) - 1));
    auto changed = compile_source(policy.policy_name + ".acct", changed_source);
    if (!changed.output) {
        throw std::runtime_error("apply timing: the changed bench policy does not compile");
    }
    {
        const auto backend = runtime::make_backend(runtime::BackendKind::nftables, netns.name());
        timed(timing.apply_seconds, timing.apply_cpu_seconds,
              [&] { backend->apply(*compiled.output, false); });
        timed(timing.reload_seconds, timing.reload_cpu_seconds,
              [&] { backend->apply(*compiled.output, false); });
        timed(timing.change_seconds, timing.change_cpu_seconds,
              [&] { backend->apply(*changed.output, false); });
    }
    timing.reads = time_reads(policy.policy_name, netns.name(), repetitions,
                              [&](const std::vector<runtime::CounterSample>& samples) {
                                  timing.counters = samples.size();
                              });
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
                 << t.apply_seconds << " s (CPU " << t.apply_cpu_seconds << " s), reload "
                 << t.reload_seconds << " s (CPU " << t.reload_cpu_seconds
                 << " s), one class changed " << t.change_seconds << " s (CPU "
                 << t.change_cpu_seconds << " s), " << describe(t.reads);
            progress(line.str());
        }
    }
    return timings;
}

} // namespace acctc::bench
