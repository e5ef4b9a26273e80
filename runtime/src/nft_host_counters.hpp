// Per-host counters of `split host` (docs/language.md): the elements of a table's host sets,
// each with its own counter, read through netlink (NFT_MSG_GETSETELEM dumps, one per set). The
// kernel restarts its walk for every reply datagram (of at most 32 KiB, ~540 IPv4 hosts), so the
// kernel's part grows with the square of the hosts (docs/performance.md).
#pragma once

#include "nft_netlink.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

// One element of a host set as the kernel dumps it: its key's bytes and its counter. Plain
// data, no text: a set of 65,536 hosts is read into one array, and an address is formatted
// only once it is reported (host_text).
struct HostElement {
    std::array<unsigned char, 16> key{}; // an IPv4 (4 bytes) or IPv6 (16) address, a MAC (6)
    std::uint8_t key_size = 0;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// One host set and its elements: the set's name and comment once, not once per host.
struct KernelHostSet {
    std::string set;     // e.g. lan_in_hosts_v4
    std::string comment; // the set's: family and labels (acctc/counter_labels.hpp)
    std::vector<HostElement> hosts;
};

// An element's key as nft prints it: 198.18.0.5, 2001:db8::5 (a masked prefix's network),
// aa:bb:cc:dd:ee:ff. In place: 65,536 of them are formatted, sorted and copied into readings.
struct HostText {
    std::array<char, 48> text{}; // INET6_ADDRSTRLEN (46) and then some
    std::uint8_t size = 0;       // 0: a key of no address's size
    std::string_view view() const { return {text.data(), size}; }
};
HostText host_text(const HostElement& element);

// The elements of one NFT_MSG_GETSETELEM(_RESET) reply that carry a counter, appended to `into`
// (one per counter expression, as `nft list set` shows them; keys of another size are skipped).
void read_host_elements(const nlmsghdr* reply, std::vector<HostElement>& into);

// A set whose comment holds counter labels is a host set (peer sets hold "file:line").
bool is_host_set_comment(std::string_view comment);

// Every element of every host set of an inet table. With reset each element's counter is read
// and zeroed by the kernel in one step (NFT_MSG_GETSETELEM_RESET, Linux 6.5 and later); the
// hosts stay in their sets. `only`, when given, picks the host sets by name: the others are
// not dumped.
std::vector<KernelHostSet>
dump_host_counters(NftNetlink& netlink, const std::string& table, bool reset,
                   const std::function<bool(const std::string&)>& only = {});

// A set of an inet table with its comment, and the size of the quota its elements carry (per-host
// quotas), when they carry one.
struct CommentedSet {
    std::string table;
    std::string name;
    std::string comment;
    std::optional<std::uint64_t> quota_bytes{};
};
// The table's sets (every inet table's when empty) whose comment `wanted` accepts.
std::vector<CommentedSet> commented_sets(NftNetlink& netlink, const std::string& table,
                                         const std::function<bool(std::string_view)>& wanted);

// Every element of one set: on_expression(host, expression) per expression of each element,
// the host as nft prints it. `restart` runs before each attempt (a plain dump interrupted by a
// concurrent change is taken again). With reset the kernel zeroes each element's counters and
// quotas as it reads them (NFT_MSG_GETSETELEM_RESET).
void dump_elements(NftNetlink& netlink, const std::string& table, const std::string& set,
                   bool reset, const std::function<void()>& restart,
                   const std::function<void(const std::string&, const nlattr*)>& on_expression);

// The quota of an element's expression: false when it is no quota.
bool read_element_quota(const nlattr* expression, std::uint64_t& bytes, std::uint64_t& consumed);

// The counter name a host set's elements report under: the set name without "_hosts_v4"/"_v6"/
// "_mac" and a part's "_p<N>".
std::string host_counter_name(const std::string& set);

} // namespace acctc::runtime
