// Plans the BPF correction of merged packets (acctc/bpf_wire_plan.hpp) from the lowered nft
// table: the rules that count a counter, turned into conditions a TCX program checks.
#pragma once

#include "acctc/bpf_wire_plan.hpp"
#include "ir.hpp"
#include "rules.hpp"

#include <set>
#include <string>

namespace acctc {

struct WirePlanning {
    BpfWirePlan plan;
    std::set<std::string> corrected; // the policy's counters (ir names) every object of which
                                     // the plan corrects
};

// A counter is corrected when every rule counting each of its objects is in a base chain of
// input, forward, output or egress, names its device (`via`, no wildcard), and has no other
// conditions than the family, the L4 protocol, ports and literal addresses, and no other
// statement than the count — and the counter has no verdict, no `split host`, no `follow` or
// `listen` and is no other counter's `peers of`. Everything else keeps counting what its hook
// saw, with its warning. A quota that sums corrected counters is corrected by as much — where
// `quotas` says its kernel object's budget can follow the correction (nft); elsewhere
// (iptables' nfacct objects) the counters a quota sums are not corrected.
WirePlanning plan_bpf_wire(const ir::Policy& policy, const rules::Table& table, bool quotas);

} // namespace acctc
