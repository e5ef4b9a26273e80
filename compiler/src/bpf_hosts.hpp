// Picks the `split host` counters a BPF program can count exactly as nft's sets would
// (docs/performance.md, "65,536 hosts in BPF", "Integration"): the plan for the runtime, and
// the policy without them for the nft lowering.
#pragma once

#include "acctc/bpf_host_plan.hpp"
#include "ir.hpp"

#include <set>
#include <string>
#include <vector>

namespace acctc {

// Eligible: a per-host counter by source or destination address (or with forward only by
// local or remote), any prefix and `within`, no timeout, no split but direction (both
// directions) and protocol, and a match of one interface in both scopes or forward only,
// nothing else; not followed, not summed by a quota. Everything else stays in nft.
bool bpf_eligible(const ir::Policy& policy, const ir::Counter& counter);

// The eligible counters but those named in `nft_hosts` (CompileOptions::nft_hosts).
std::vector<BpfHostCounterPlan> plan_bpf_hosts(const ir::Policy& policy,
                                               const std::set<std::string>& nft_hosts);

// The policy without the counters the plan counts (for the nft lowering).
ir::Policy without_bpf_hosts(const ir::Policy& policy, const std::vector<BpfHostCounterPlan>& plan);

} // namespace acctc
