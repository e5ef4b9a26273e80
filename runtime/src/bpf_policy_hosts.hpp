// A policy's `split host` counters counted in BPF (CompiledPolicy::bpf_hosts; docs/runtime.md,
// "Per-host counters in BPF"): per counter a TCX program on its device with two generations of
// host maps, everything pinned under <root>/acctc/<netns cookie>/<policy>/<counter>/ so that the
// counting outlives acctc, as an nft table does. <root> is /sys/fs/bpf (ACCTC_BPF_ROOT
// overrides it: the tests' private bpffs), mounted as bpffs there when it is not one yet.
#pragma once

#include "acctc/bpf_host_plan.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/bpf_host_counter.hpp"
#include "bpf_policy_pins.hpp"
#include "nft_host_counters.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace acctc::runtime {

// Counts the plan's counters (in the calling thread's network namespace): a counter whose
// device, hook, key and size are unchanged keeps its maps and counts and gets the new program
// through its pinned link; another layout gets new maps that start with the old ones' counts;
// a new counter starts with its `carried` counts (what nft's sets held: bpf_nft_carry.hpp). The
// AppliedPins put back what was there, should this call or the commit that goes with it fail
// (finish() once it went through). Counters no longer planned stay until take_bpf_hosts.
AppliedPins apply_bpf_hosts(const std::string& policy, const std::vector<BpfHostCounterPlan>& plan,
                            const std::map<std::string, BpfHostCounts>& carried = {});

// Stops the policy's counters that `plan` no longer counts in BPF (their programs count nothing
// from now on) and returns what each held, every packet until then included (for the nft sets
// that count them from now on). Their pins go with `pins.finish()`, once the commit that
// declares those counts went through; without it they count again.
struct TakenHosts {
    std::map<std::string, BpfHostCounts> counts;
    TakenPins pins;
};
TakenHosts take_bpf_hosts(const std::string& policy, const std::vector<BpfHostCounterPlan>& plan);

// Unpins everything of the policy: the programs detach, the maps go with their last reference.
void remove_bpf_hosts(const std::string& policy);

struct BpfHostReadings {
    std::vector<KernelHostSet> sets;       // as the nft host sets read: <counter>_hosts_v4/_v6
    std::vector<CounterReading> overflows; // <counter>_overflow, label host=overflow
};
// Every host of the policy's BPF counters; with reset, exact under traffic: the program is
// switched to the other generation first, and the old one read and emptied once nothing counts
// in it any more.
BpfHostReadings read_bpf_hosts(const std::string& policy, bool reset);

} // namespace acctc::runtime
