// Receive offloads of the devices a policy counts on: with GRO (or LRO) on, the hooks see
// merged packets, not the segments on the wire (docs/counting.md).
#pragma once

#include "acctc/compile.hpp"

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

} // namespace acctc::runtime
