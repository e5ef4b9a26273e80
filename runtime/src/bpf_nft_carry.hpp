// Per-host counts carried along when a `split host` counter changes where it counts, between
// nft sets and BPF maps (docs/runtime.md, "Per-host counters in BPF", "Switching"): every host
// keeps its packets and bytes, and the overflow its own.
#pragma once

#include "acctc/bpf_host_plan.hpp"
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
// `taken` from BPF that it declares as a counter object declared with its counts; `carried`
// gets their names. A class counted by elements of a counting set now (a large classification)
// or gone from the policy is not in `carried`: its counts end there, reported as removed.
std::string with_classes_from_bpf(std::string commit,
                                  const std::map<std::string, TakenClass>& taken,
                                  std::set<std::string>& carried);

} // namespace acctc::runtime
