// Per-host counters of `split host` (docs/language.md): the elements of a table's host sets,
// each with its own counter, read through netlink (NFT_MSG_GETSETELEM dumps, one per set). The
// kernel restarts its walk for every reply datagram (of at most 32 KiB, ~540 IPv4 hosts), so the
// kernel's part grows with the square of the hosts (docs/performance.md).
#pragma once

#include "nft_netlink.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace acctc::runtime {

struct KernelHostCounter {
    std::string host; // the element: 198.18.0.5, 2001:db8::5 (a masked prefix's network)
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// One host set and its elements: the set's name and comment once, not once per host.
struct KernelHostSet {
    std::string set;     // e.g. lan_in_hosts_v4
    std::string comment; // the set's: family and labels (acctc/counter_labels.hpp)
    std::vector<KernelHostCounter> hosts;
};

// A set whose comment holds counter labels is a host set (peer sets hold "file:line").
bool is_host_set_comment(const std::string& comment);

// Every element of every host set of an inet table. With reset each element's counter is read
// and zeroed by the kernel in one step (NFT_MSG_GETSETELEM_RESET, Linux 6.5 and later); the
// hosts stay in their sets.
std::vector<KernelHostSet> dump_host_counters(NftNetlink& netlink, const std::string& table,
                                              bool reset);

// The counter name a host set's elements report under: the set name without "_hosts_v4"/"_v6"/
// "_mac" and a part's "_p<N>".
std::string host_counter_name(const std::string& set);

} // namespace acctc::runtime
