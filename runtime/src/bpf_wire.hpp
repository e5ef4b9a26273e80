// The correction of merged packets in BPF (acctc/bpf_wire_plan.hpp; docs/counting.md,
// "Segmentation offload and GRO"): a policy's TCX programs, one per planned device and
// direction, and their maps, pinned under <namespace dir>/+wire/<policy>/ (bpf::namespace_dir())
// so that they count while acctc is not running, as the nft table does:
//   counts      per-CPU array: two generations of `wire_slots` slots of packets and bytes
//   generation  which generation the programs add to (a reset switches it)
//   names       slot -> the kernel counter name it corrects ("" when free)
//   <device>_in, <device>_out   the TCX links
// A counter keeps its slot, and so its correction, across reloads.
#pragma once

#include "acctc/bpf_wire_plan.hpp"
#include "acctc/runtime/backend.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

// Counters one policy can have corrected.
inline constexpr std::uint32_t wire_slots = 1024;

// Loads and attaches the plan's programs (in the calling thread's network namespace), replacing
// the policy's earlier ones in place; an empty plan removes them. Throws when BPF, TCX or a
// device is not there: the caller removes what is left and counts without the correction.
// `counters_new`: the table was created anew (after `nft flush ruleset`), so its counters start
// from zero and so does every correction, which the pinned maps held on to.
void apply_bpf_wire(const std::string& policy, const BpfWirePlan& plan, bool counters_new = false);

void remove_bpf_wire(const std::string& policy);

// apply_bpf_wire(), or, where it fails, none of it: the reason why the counters count merged
// packets (ApplyReport::wire_fallback).
std::optional<std::string> apply_wire_correction(const std::string& policy, const BpfWirePlan& plan,
                                                 bool counters_new = false);

// The kernel counter names corrected now (empty without programs).
std::set<std::string> corrected_counters(const std::string& policy);

// Adds each corrected counter's correction to its reading, which then no longer counts merged
// packets (the segmentation- and receive-offload differences go); with reset, the correction
// restarts too (the generation switched first, then the old one read and zeroed).
void add_wire_corrections(const std::string& policy, bool reset,
                          std::vector<CounterReading>& readings);

} // namespace acctc::runtime
