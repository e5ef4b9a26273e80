// Receive offloads of the devices a policy counts on: with GRO (or LRO) on, the hooks see
// merged packets, not the segments on the wire (docs/counting.md).
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctc::runtime {

struct ReceiveOffloads {
    bool gro = false; // generic-receive-offload
    bool lro = false; // large-receive-offload
};

// Through the ethtool ioctls in the calling thread's namespace; empty when there is no such
// device (yet) or it cannot tell.
std::optional<ReceiveOffloads> read_receive_offloads(const std::string& device);

// One "note: ..." line per `via` device of the policy (CompiledPolicy::devices, wildcards
// left out) that merges what it receives, naming the counters and classifications on it.
// Read in network namespace `netns` (empty: the current one).
std::vector<std::string> receive_offload_notes(const CompiledPolicy& policy,
                                               const std::string& netns);

// Whether a counter's receive devices (CounterSample::receive_devices: every device but
// loopback when they name none; a trailing '*' matches a prefix) merge what they receive now,
// in `netns`. The devices are asked once, at the first question; the last answer is kept, since
// the counters of one classification name the same devices (100,000 element counters).
class ReceiveOffloadResolver {
  public:
    explicit ReceiveOffloadResolver(std::string netns) : netns_(std::move(netns)) {}
    bool merged(const std::vector<std::string>& patterns);
    // The same for a description's receive devices (CounterDescription::devices): the list
    // asked for last answers again by its address, without comparing names.
    bool merged(const std::shared_ptr<const std::vector<std::string>>& devices);

  private:
    std::string netns_;
    std::optional<std::vector<std::string>> merging_; // the devices that merge
    std::optional<std::pair<std::vector<std::string>, bool>> last_;
    std::shared_ptr<const std::vector<std::string>> last_list_; // held: its address stays unique
    bool last_list_merged_ = false;
    bool list_asked_ = false;
};

// Keeps WireDifference::receive_offload on the readings whose receive devices (every device
// but loopback when they name none; a trailing '*' matches a prefix) merge what they receive
// now, and drops it from the others: the counters that count merged packets. In `netns`.
void resolve_receive_offloads(std::vector<CounterReading>& readings, const std::string& netns);

} // namespace acctc::runtime
