#include "acctc/bench/read_timing.hpp"

#include "acctc/bench/datapath.hpp"
#include "acctc/runtime/counters.hpp"

#include <chrono>
#include <sstream>
#include <sys/resource.h>

namespace acctc::bench {

namespace {

rusage usage_now() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage;
}

double seconds(const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
}

} // namespace

double cpu_seconds() {
    const rusage usage = usage_now();
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double system_cpu_seconds() {
    return seconds(usage_now().ru_stime);
}

ReadTimings
time_reads(const std::string& policy, const std::string& netns, unsigned repetitions,
           const std::function<void(const std::vector<runtime::CounterSample>&)>& first_read) {
    using Clock = std::chrono::steady_clock;
    ReadTimings timings;
    // One read (or read-and-reset) timed: its wall and CPU milliseconds appended.
    const auto timed_read = [&](bool reset, std::vector<double>& wall_ms,
                                std::vector<double>& cpu_ms, std::vector<double>& system_ms) {
        const double cpu_start = cpu_seconds();
        const double system_start = system_cpu_seconds();
        const auto start = Clock::now();
        // The backend named: the read timed is the kernel's, not a look for where it lives.
        auto samples = runtime::read_counters(policy, netns, reset, runtime::BackendKind::nftables);
        wall_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        cpu_ms.push_back((cpu_seconds() - cpu_start) * 1e3);
        system_ms.push_back((system_cpu_seconds() - system_start) * 1e3);
        return samples;
    };
    for (unsigned rep = 0; rep < repetitions; ++rep) {
        const auto samples =
            timed_read(false, timings.read_ms, timings.read_cpu_ms, timings.read_system_ms);
        if (rep == 0 && first_read) {
            first_read(samples);
        }
        timed_read(true, timings.reset_ms, timings.reset_cpu_ms, timings.reset_system_ms);
    }
    timings.median_read_ms = median(timings.read_ms);
    timings.median_reset_ms = median(timings.reset_ms);
    timings.median_read_cpu_ms = median(timings.read_cpu_ms);
    timings.median_reset_cpu_ms = median(timings.reset_cpu_ms);
    timings.median_read_system_ms = median(timings.read_system_ms);
    timings.median_reset_system_ms = median(timings.reset_system_ms);
    return timings;
}

void add_read_timings(nlohmann::json& object, const ReadTimings& timings) {
    object["read_ms"] = timings.read_ms;
    object["reset_ms"] = timings.reset_ms;
    object["median_read_ms"] = timings.median_read_ms;
    object["median_reset_ms"] = timings.median_reset_ms;
    object["read_cpu_ms"] = timings.read_cpu_ms;
    object["reset_cpu_ms"] = timings.reset_cpu_ms;
    object["median_read_cpu_ms"] = timings.median_read_cpu_ms;
    object["median_reset_cpu_ms"] = timings.median_reset_cpu_ms;
    object["read_system_ms"] = timings.read_system_ms;
    object["reset_system_ms"] = timings.reset_system_ms;
    object["median_read_system_ms"] = timings.median_read_system_ms;
    object["median_reset_system_ms"] = timings.median_reset_system_ms;
}

std::string describe(const ReadTimings& timings) {
    std::ostringstream line;
    line << "read " << timings.median_read_ms << " ms (" << timings.median_read_cpu_ms
         << " ms CPU, " << timings.median_read_system_ms << " system), reset "
         << timings.median_reset_ms << " ms (" << timings.median_reset_cpu_ms << " ms CPU, "
         << timings.median_reset_system_ms << " system)";
    return line.str();
}

} // namespace acctc::bench
