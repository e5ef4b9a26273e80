#include "acctc/bench/read_timing.hpp"

#include "acctc/bench/datapath.hpp"
#include "acctc/runtime/counters.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <sys/resource.h>

namespace acctc::bench {

CpuTimes cpu_times() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return {seconds(usage.ru_utime) + seconds(usage.ru_stime), seconds(usage.ru_stime)};
}

double cpu_seconds() {
    return cpu_times().total;
}

ReadTimings time_reads(unsigned repetitions, const std::function<void(bool reset)>& read,
                       const std::function<void()>& before) {
    using Clock = std::chrono::steady_clock;
    ReadTimings timings;
    // One read (or read-and-reset) timed: its wall and CPU milliseconds appended.
    const auto timed_read = [&](bool reset, std::vector<double>& wall_ms,
                                std::vector<double>& cpu_ms, std::vector<double>& system_ms) {
        if (before) {
            before();
        }
        const CpuTimes cpu_start = cpu_times();
        const auto start = Clock::now();
        read(reset);
        wall_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        const CpuTimes cpu_end = cpu_times(); // one snapshot: system never exceeds the total
        const double total = (cpu_end.total - cpu_start.total) * 1e3;
        // ...but the two differences of doubles round apart when the user part is 0 (2.245 ms
        // system against 2.245 ms total, a 1e-13 apart, failed the smoke test once).
        cpu_ms.push_back(total);
        system_ms.push_back(std::min((cpu_end.system - cpu_start.system) * 1e3, total));
    };
    for (unsigned rep = 0; rep < repetitions; ++rep) {
        timed_read(false, timings.read_ms, timings.read_cpu_ms, timings.read_system_ms);
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

ReadTimings
time_reads(const std::string& policy, const std::string& netns, unsigned repetitions,
           const std::function<void(const std::vector<runtime::CounterSample>&)>& first_read) {
    bool first = true;
    return time_reads(repetitions, [&](bool reset) {
        // The backend named: the read timed is the kernel's, not a look for where it lives.
        const auto samples =
            runtime::read_counters(policy, netns, reset, runtime::BackendKind::nftables);
        if (first && !reset) {
            first = false;
            if (first_read) {
                first_read(samples);
            }
        }
    });
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
