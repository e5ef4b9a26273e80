// Receive offloads of the devices a policy counts on: with GRO (or LRO) on, the hooks see
// merged packets, not the segments on the wire (docs/counting.md).
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"

#include <optional>
#include <string>
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

// Keeps WireDifference::receive_offload on the readings whose receive devices (every device
// but loopback when they name none; a trailing '*' matches a prefix) merge what they receive
// now, and drops it from the others: the counters that count merged packets. In `netns`.
void resolve_receive_offloads(std::vector<CounterReading>& readings, const std::string& netns);

} // namespace acctc::runtime
