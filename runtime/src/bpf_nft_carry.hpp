// Per-host counts carried along when a `split host` counter changes where it counts, between
// nft sets and BPF maps (docs/runtime.md, "Per-host counters in BPF", "Switching"): every host
// keeps its packets and bytes, and the overflow its own.
#pragma once

#include "acctc/bpf_host_plan.hpp"
#include "acctc/compile.hpp"
#include "acctc/runtime/bpf_host_counter.hpp"
#include "bpf_policy_classes.hpp"
#include "nft_netlink.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

// nft -> BPF: what the table's host sets and overflow counter hold for each counter of
// `moving` (planned in BPF, counted in nft until now), by counter name.
std::map<std::string, BpfHostCounts> nft_hosts_for_bpf(NftNetlink& netlink,
                                                       const std::string& table,
                                                       const std::vector<std::string>& moving);

// BPF -> nft: the commit with the counts `taken` from BPF in the host sets the definition
// declares and the overflow counters the commit declares: per host an element `ADDRESS counter
// packets P bytes B` added in the same transaction (before a packet of the host can add it),
// in the part of a large set that nft's jhash sends the address to; the overflow's declaration
// with its values. `moved` names the counters carried, `dropped` those whose counts have
// nowhere to go (no longer in the policy).
struct HostsCarried {
    std::vector<std::string> moved;
    std::vector<std::string> dropped;
};
std::string with_hosts_from_bpf(std::string commit, const std::string& definition,
                                const std::string& table,
                                const std::map<std::string, BpfHostCounts>& taken,
                                HostsCarried& carried);

// BPF -> nft for classifications (docs/runtime.md, "Classes in BPF"): the commit with each class
// `taken` from BPF declared with its counts: a counter object with them in its declaration; a
// class counted by elements of counting sets (a large classification) with them in one of its
// elements, deleted and added again after the definition in the same transaction (`set_names`:
// each compiled counting set's name in the definition). `carried` gets the classes' names; one
// not in the commit (gone from the policy) is not carried.
std::string with_classes_from_bpf(std::string commit, const std::string& table,
                                  const std::vector<CompiledPolicy::ElementSet>& sets,
                                  const std::map<std::string, std::string>& set_names,
                                  const std::map<std::string, TakenClass>& taken,
                                  std::set<std::string>& carried);

} // namespace acctc::runtime
