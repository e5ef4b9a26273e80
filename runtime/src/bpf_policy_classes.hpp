// A policy's classifications counted in BPF (CompiledPolicy::bpf_classes; docs/runtime.md,
// "Classes in BPF"): per classification a TCX program on its device and the maps of a
// BpfClassCounter, pinned under <root>/acctc/<netns cookie>/<policy>+classes/<classification>/
// so that the counting outlives acctc, as an nft table does (the per-host counters' directory
// is <policy>/: a policy name has no `+`; bpffs refuses names with a dot). Beside the maps, `info`
// holds the layout and each class's index, counter name and comment: readers need no policy file.
#pragma once

#include "acctc/bpf_class_plan.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/bpf_class_counter.hpp"
#include "bpf_policy_pins.hpp"

#include <map>
#include <string>
#include <vector>

namespace acctc::runtime {

// Counts the plan's classifications (in the calling thread's network namespace). A class
// already counted here keeps its counts, whatever ports it now owns; a new one starts with its
// `carried` counts (what nft counted for it until now: by counter name), else at zero. The
// program is replaced in place (or attached to another device: the new one first). The
// AppliedPins put back what was there, should this call or the commit that goes with it fail
// (finish() once it went through). Classifications no longer planned stay until
// take_bpf_classes.
AppliedPins apply_bpf_classes(const std::string& policy, const std::vector<BpfClassifyPlan>& plan,
                              const std::map<std::string, BpfClassCounts>& carried = {});

// Stops the policy's classifications that `plan` no longer counts in BPF (their programs count
// nothing from now on) and returns what each class held, every packet until then included,
// with the comment its counter had (by counter name). Their pins go with `pins.finish()`, once
// the commit that declares those counts went through; without it they count again.
struct TakenClass {
    BpfClassCounts counts;
    std::string comment;
    std::string classify; // its classification
};
struct TakenClasses {
    std::map<std::string, TakenClass> classes;
    TakenPins pins;
};
TakenClasses take_bpf_classes(const std::string& policy, const std::vector<BpfClassifyPlan>& plan);

// Unpins everything of the policy's classifications: the programs detach, the maps go.
void remove_bpf_classes(const std::string& policy);

// The counters of the policy's classes counted in BPF here now.
std::vector<std::string> bpf_class_counters(const std::string& policy);

// Every class of the policy's BPF classifications, with its labels as nft's counter has them;
// with reset exact under traffic (BpfClassCounter::read_and_reset).
std::vector<CounterReading> read_bpf_classes(const std::string& policy, bool reset);

} // namespace acctc::runtime
