#include "acctc/runtime/counters.hpp"

#include "acctc/runtime/device_offloads.hpp"
#include "acctc/runtime/errors.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

namespace acctc::runtime {
namespace {

bool by_policy_and_counter(const CounterReading& a, const CounterReading& b) {
    return std::tie(a.sample.policy, a.sample.counter) <
           std::tie(b.sample.policy, b.sample.counter);
}

// Backends return their readings sorted; merging those of several costs a sort, one policy
// of 100,000 counters only the check (moving readings in a stable sort cost ~5 % of a read).
void sort_by_policy_and_counter(std::vector<CounterReading>& readings) {
    if (!std::is_sorted(readings.begin(), readings.end(), by_policy_and_counter)) {
        std::stable_sort(readings.begin(), readings.end(), by_policy_and_counter);
    }
}

} // namespace

CounterReading reading_of(std::string policy, std::string name, std::uint64_t packets,
                          std::uint64_t bytes, CounterIdentity identity) {
    const WireDifferences wire = identity.wire;
    CounterReading reading{{std::move(policy), std::move(name), packets, bytes,
                            CounterDescription::of(std::move(identity))}};
    reading.sample.wire = wire;
    return reading;
}

void CounterReading::set_origin(const std::string& origin) {
    if (origin == this->origin()) {
        return;
    }
    auto moved = std::make_shared<CounterDescription>(sample.what());
    moved->origin = origin;
    sample.description = std::move(moved);
}

CounterSource::CounterSource(std::string netns, std::optional<BackendKind> backend)
    : netns_(std::move(netns)), backend_(backend) {}

std::vector<CounterReading> CounterSource::read(const std::string& policy, bool reset) const {
    auto readings = policy.empty() ? read_kernel_every(reset).readings : read_kernel(policy, reset);
    resolve_receive_offloads(readings, netns_);
    return readings;
}

EveryPolicyRead CounterSource::read_every(bool reset) const {
    EveryPolicyRead read = read_kernel_every(reset);
    resolve_receive_offloads(read.readings, netns_);
    // Per backend: of a policy applied with nft and iptables, the iptables chains gone are named.
    std::map<BackendKind, std::set<std::string>> accounted;
    const CounterSample* last = nullptr; // a policy's readings of one backend come mostly in a row
    for (const auto& reading : read.readings) {
        const CounterSample& sample = reading.sample;
        if (last == nullptr || last->policy != sample.policy || last->backend != sample.backend) {
            accounted[sample.backend].insert(sample.policy);
        }
        last = &sample;
    }
    for (const auto& unfinished : read.unloaded) {
        accounted[unfinished.backend].insert(unfinished.policy);
    }
    for (const auto kind :
         backend_ ? std::vector<BackendKind>{*backend_} : remembered_backends(netns_, {})) {
        const auto backend = make_backend(kind, netns_);
        for (auto& policy : unloaded_policies(netns_, kind, *backend, accounted[kind])) {
            read.unloaded.push_back({kind, std::move(policy)});
        }
    }
    return read;
}

std::vector<CounterReading> CounterSource::read_kernel(const std::string& policy,
                                                       bool reset) const {
    if (backend_) {
        return make_backend(*backend_, netns_)->counters(policy, reset);
    }
    std::vector<CounterReading> readings;
    auto kinds = remembered_backends(netns_, policy);
    if (kinds.empty()) {
        kinds.push_back(BackendKind::nftables);
    }
    // Applied with two backends (a move from one to the other): both hold counts.
    std::optional<RuntimeError> missing;
    for (const auto kind : kinds) {
        try {
            auto more = make_backend(kind, netns_)->counters(policy, reset);
            if (readings.empty()) {
                readings = std::move(more); // one backend, the usual case: no copy
            } else {
                std::move(more.begin(), more.end(), std::back_inserter(readings));
            }
        } catch (const RuntimeError& error) {
            if (error.kind() != ErrorKind::unknown_table || kinds.size() == 1) {
                throw;
            }
            missing = error;
        }
    }
    if (readings.empty() && missing) {
        throw *missing;
    }
    sort_by_policy_and_counter(readings);
    return readings;
}

EveryPolicyRead CounterSource::read_kernel_every(bool reset) const {
    const auto with_kind = [](BackendKind kind, EveryPolicyReadings& read) {
        EveryPolicyRead out{std::move(read.readings), {}};
        for (auto& policy : read.unfinished) {
            out.unloaded.push_back({kind, std::move(policy), true});
        }
        return out;
    };
    if (backend_) {
        auto read = make_backend(*backend_, netns_)->every_policy(reset);
        return with_kind(*backend_, read);
    }
    // nft holds its policies in tables named acctc_*, so it needs no memory to find them. Each
    // policy remembered as applied with an iptables backend is read from it too, also when nft
    // holds it (applied with both, as a read of the policy by name reads both); the iptables
    // backends read their own policies only, and each policy from one of them, since iptables
    // and iptables-nft may be the same kernel tables and one policy must not show twice.
    auto nft = make_backend(BackendKind::nftables, netns_)->every_policy(reset);
    EveryPolicyRead result = with_kind(BackendKind::nftables, nft);
    auto& readings = result.readings;
    std::set<std::string> seen; // read from an iptables backend
    for (const auto kind : remembered_backends(netns_, {})) {
        if (kind == BackendKind::nftables) {
            continue;
        }
        std::set<std::string> wanted;
        for (auto& name : applied_policies(netns_, kind)) {
            if (seen.count(name) == 0) {
                wanted.insert(std::move(name));
            }
        }
        if (wanted.empty()) {
            continue;
        }
        const auto backend = make_backend(kind, netns_);
        for (const auto& name : wanted) {
            try {
                auto more = backend->counters(name, reset);
                std::move(more.begin(), more.end(), std::back_inserter(readings));
                seen.insert(name);
            } catch (const RuntimeError& error) {
                if (error.kind() != ErrorKind::unknown_table) {
                    throw;
                }
                // Gone behind our back: read_every() names it.
            }
        }
    }
    sort_by_policy_and_counter(readings);
    return result;
}

std::vector<CounterSample> read_counters(const std::string& policy, const std::string& netns,
                                         bool reset, std::optional<BackendKind> backend) {
    return samples_of(CounterSource(netns, backend).read(policy, reset));
}

std::vector<CounterSample> samples_of(const std::vector<CounterReading>& readings) {
    std::vector<CounterSample> samples;
    samples.reserve(readings.size());
    for (const auto& reading : readings) {
        samples.push_back(reading.sample);
    }
    return samples;
}

std::vector<CounterSample> samples_of(std::vector<CounterReading>&& readings) {
    // Moved, not copied: 65,536 hosts are 65,536 samples with their strings and label lists.
    std::vector<CounterSample> samples;
    samples.reserve(readings.size());
    for (auto& reading : readings) {
        samples.push_back(std::move(reading.sample));
    }
    return samples;
}

} // namespace acctc::runtime
