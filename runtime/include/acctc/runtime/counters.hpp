// Reading (and atomically zeroing) acctc's named counters, for `counters`, `serve` and `record`,
// from whichever backends hold them.
#pragma once

#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counter_sample.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

// A read of every policy (CounterSource::read_every).
struct EveryPolicyRead {
    std::vector<CounterReading> readings;
    // What "every policy" must not quietly leave out: nft's half-loaded policies (remembered or
    // not), which the read skipped, and the policies acctc remembers applying here (with the
    // backends the source reads) whose table or chains are gone.
    std::vector<AppliedPolicy> unloaded;
};

// The counters of a namespace (netns names /run/netns/NAME; empty: the calling thread's, which
// is restored after each read). With a backend named, only that backend is read. Without, a
// policy is read from the backends acctc remembers applying it with there (applied_policies.hpp),
// nft if none; "every policy" is every acctc table in nft plus every policy remembered as
// applied with another backend: apply with --backend iptables once, read without --backend.
class CounterSource {
  public:
    explicit CounterSource(std::string netns, std::optional<BackendKind> backend = {});

    // One policy (its name), or every policy when empty. Sorted by policy, then counter. With
    // reset, each backend lists and zeroes its counters in one kernel operation: a packet
    // counted while the reset runs shows up either in this result or in the next read, never
    // in neither (concurrent resets are serialised by a lock file under /run/acctc). Throws
    // RuntimeError: ErrorKind::unknown_table when the named policy is not applied. Each
    // reading says whether it counts merged packets (resolve_receive_offloads).
    std::vector<CounterReading> read(const std::string& policy, bool reset = false) const;

    // read({}, reset), with the policies that counted nothing. One look at each nft table both
    // skips and names a half-loaded one.
    EveryPolicyRead read_every(bool reset = false) const;

  private:
    std::vector<CounterReading> read_kernel(const std::string& policy, bool reset) const;
    // Every policy from the kernel; `unloaded` holds the unfinished ones only.
    EveryPolicyRead read_kernel_every(bool reset) const;

    std::string netns_;
    std::optional<BackendKind> backend_;
};

// CounterSource(netns, backend).read(policy, reset), as samples.
std::vector<CounterSample> read_counters(const std::string& policy, const std::string& netns = {},
                                         bool reset = false,
                                         std::optional<BackendKind> backend = {});

std::vector<CounterSample> samples_of(const std::vector<CounterReading>& readings);
std::vector<CounterSample> samples_of(std::vector<CounterReading>&& readings);

} // namespace acctc::runtime
