#include "acctc/runtime/counters.hpp"

#include "acctc/runtime/backend.hpp"

namespace acctc::runtime {

std::vector<CounterSample> read_counters(const std::string& policy, const std::string& netns,
                                         bool reset) {
    const auto backend = make_backend(BackendKind::nftables, netns);
    std::vector<CounterSample> samples;
    for (auto& reading : backend->counters(policy, reset)) {
        samples.push_back(std::move(reading.sample));
    }
    return samples;
}

} // namespace acctc::runtime
