// Per-host counters of `split host` on the iptables backends (docs/iptables.md, "Per-host
// counters"): ipsets with per-element counters. The rule that counts in a set says which set it
// is and what its elements count (acctc/ipset_host_comment.hpp); the elements are read with
// `ipset save`, one process for every set.
//
// ipset cannot read and zero an element's counters in one step. A reset swaps each set with a
// twin that holds the same hosts at zero (`ipset swap` exchanges the two sets under the rules
// that refer to them, in one kernel operation), then reads and destroys the twin, which now
// holds every count up to the swap: a packet is counted either before the swap (in what is
// read) or after it (in the live set, for the next read), never in neither and never twice.
#pragma once

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/backend.hpp"
#include "iptables_save.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace acctc::runtime {

struct IpsetHostSet {
    std::string policy;
    std::string prefix; // the policy's "acctc-<tag>-", which also begins the set's name
    std::string ipset;
    std::string counter;
    CounterIdentity identity; // family, labels (without host) and origin
};

// The host sets the rules of these policies (name -> prefix) count in, each once.
std::vector<IpsetHostSet> ipset_host_sets(const std::vector<SavedRule>& rules,
                                          const std::map<std::string, std::string>& policies);

// One element as `ipset save` prints it: "add NAME ADDRESS packets P bytes B".
struct IpsetElement {
    std::string set;
    std::string address; // as inet_ntop writes it (a masked prefix's network address)
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// The elements of `ipset save` output, and the sets' "create" lines (name -> the rest).
struct IpsetSave {
    std::vector<IpsetElement> elements;
    std::map<std::string, std::string> creates;
    std::vector<std::string> names; // plain name lines (`list -n`)
};
IpsetSave parse_ipset_save(const std::string& text);

// One reading per host, under its set's counter, family and labels plus host=ADDRESS. With
// reset the counts are taken out of the kernel by the swap above; hosts stay, at zero.
std::vector<CounterReading> read_ipset_hosts(const std::vector<IpsetHostSet>& sets, bool reset);

} // namespace acctc::runtime
