// The correction of merged packets in BPF (acctc/bpf_wire_plan.hpp; docs/counting.md,
// "Segmentation offload and GRO"): a policy's TCX programs, one per planned device and
// direction, and their maps, pinned under <namespace dir>/+wire/<policy>/ (bpf::namespace_dir())
// so that they count while acctc is not running, as the nft table does:
//   counts      per-CPU array: two generations of `wire_slots` slots of packets and bytes
//   generation  which generation the programs add to (a reset switches it)
//   names       slot -> the kernel counter name it corrects ("" when free)
//   quota_counts  per-CPU array: per quota slot, the correction of the counters the quota sums
//   quotas      quota slot -> the quota's name, declared budget and warning level, and the
//               slot's count when its period began
//   <device>_in, <device>_out   the TCX links
//   owner-<backend>   an empty directory: the backend whose counters the pins correct (one per
//               policy and namespace, whichever backends hold the policy: no other backend's
//               apply, read or remove touches them; pins made before it have none)
// A counter keeps its slot, and so its correction, across reloads.
#pragma once

#include "acctc/bpf_wire_plan.hpp"
#include "acctc/runtime/backend.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

// Counters one policy can have corrected, and quotas over them.
inline constexpr std::uint32_t wire_slots = 1024;
inline constexpr std::uint32_t wire_quota_slots = 64;

// Before `backend` changes anything for an apply: throws RuntimeError (rejected, naming the
// remove to run) when the plan corrects counters but the policy's pins are another backend's.
// Both would add one correction, and either's remove would take it from the other, whose
// counters then fell back to merged packets.
// netns: where the policy is applied, for how the other was given (applied_label).
void refuse_wire_of_other_backend(const std::string& netns, const std::string& policy,
                                  const BpfWirePlan& plan, BackendKind backend);

// Loads and attaches the plan's programs (in the calling thread's network namespace), replacing
// the policy's earlier ones in place, as `backend`'s; an empty plan removes them. Throws when
// BPF, TCX or a device is not there: the caller removes what is left and counts without the
// correction. `counters_new`: the table was created anew (after `nft flush ruleset`), so its
// counters start from zero and so does every correction, which the pinned maps held on to.
void apply_bpf_wire(const std::string& policy, const BpfWirePlan& plan, BackendKind backend,
                    bool counters_new = false);

// Removes the policy's pins unless another backend's.
void remove_bpf_wire(const std::string& policy, BackendKind backend);

// apply_bpf_wire(), or, where it fails, none of it: the reason why the counters count merged
// packets (ApplyReport::wire_fallback).
std::optional<std::string> apply_wire_correction(const std::string& policy, const BpfWirePlan& plan,
                                                 BackendKind backend, bool counters_new = false);

// The kernel counter names corrected now (empty without programs).
std::set<std::string> corrected_counters(const std::string& policy);

// Adds each corrected counter's correction to its reading (`backend`'s, of the policy), which
// then no longer counts merged packets (the segmentation- and receive-offload differences go);
// with reset, the correction restarts too (the generation switched first, then the old one read
// and zeroed). Nothing for pins of another backend.
void add_wire_corrections(const std::string& policy, BackendKind backend, bool reset,
                          std::vector<CounterReading>& readings);

// The policies with corrections pinned in this network namespace.
std::vector<std::string> wire_policies();

// A quota over corrected counters (BpfWirePlan::quotas), as its pins hold it.
struct WireQuotaState {
    std::string quota;
    std::uint64_t limit = 0; // as declared (the kernel objects' budgets are lowered)
    std::uint64_t warn = 0;
    std::uint64_t correction = 0; // bytes the hooks missed this period (merged packets)
};
std::vector<WireQuotaState> wire_quotas(const std::string& policy);

// A new period of the quota: its correction starts at zero. Returns what it held; nothing when
// the quota has no correction.
std::optional<std::uint64_t> restart_wire_quota(const std::string& policy,
                                                const std::string& quota);

} // namespace acctc::runtime
