// Picks the classifications a BPF program can count exactly as nft's rules would (docs/runtime.md,
// "Classes in BPF"): the plan for the runtime, with the first-match partition of the ports made
// here, and the policy without them for the nft lowering.
#pragma once

#include "acctc/bpf_class_plan.hpp"
#include "ir.hpp"

#include <set>
#include <string>
#include <vector>

namespace acctc {

// Eligible: a header of one interface (no wildcard, not loopback), one direction (`in` or
// `out`, no `split direction`), both scopes or forward only, nothing else; at least one class,
// and every class (but `otherwise`) of TCP and/or UDP destination ports only (`tcp dport 80`,
// `tcp, udp dport 53`, ranges), or every class of addresses of the same side only (`from
// 198.18.0.0/24, 2001:db8::/64`, ranges); no class counter summed by a quota. Everything else
// stays in nft.
bool bpf_eligible(const ir::Policy& policy, const ir::Classify& classify);

// The eligible classifications but those named in `nft_classes` (CompileOptions::nft_classes),
// in the policy's order.
std::vector<BpfClassifyPlan> plan_bpf_classes(const ir::Policy& policy,
                                              const std::set<std::string>& nft_classes);

// The policy without the classifications the plan counts (for the nft lowering).
ir::Policy without_bpf_classes(const ir::Policy& policy, const std::vector<BpfClassifyPlan>& plan);

} // namespace acctc
