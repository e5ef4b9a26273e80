// Per-host counting in BPF, proven by the bench beside acctc's nft set elements
// (docs/performance.md, "65,536 hosts in BPF"; acctc does not use it yet): a tc program on a
// device (a TCX link) that looks the packet's source or destination address up in a hash map of
// its family and adds one packet and its L3 length (the IP header's length field, what nft's
// counter counts) to the host's entry, adding the host when it is new. A host the map cannot
// take (full, or no memory for an element) is counted in the family's overflow slot: nothing is
// left uncounted.
#pragma once

#include "acctc/bpf_host_plan.hpp"
#include "acctc/unique_fd.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

enum class BpfHostMap {
    none,             // the program returns at once: what a TCX program costs by itself
    hash,             // BPF_MAP_TYPE_HASH, preallocated, atomic adds
    percpu_hash,      // BPF_MAP_TYPE_PERCPU_HASH, preallocated, plain adds to this CPU's value
    lru_hash,         // BPF_MAP_TYPE_LRU_HASH: never full, but evicts hosts (and their counts)
    hash_no_prealloc, // BPF_MAP_TYPE_HASH with BPF_F_NO_PREALLOC: elements allocated on insert
    // `hash` in two generations, for an exact reset: the program counts in the generation a
    // one-element array names; read_and_delete() switches it, waits until no program still
    // counts in the old one, then reads and empties that.
    hash_generations,
};
std::string to_string(BpfHostMap map);

struct BpfHostCount {
    bool ipv6 = false;
    std::array<std::uint8_t, 16> address{}; // network order; IPv4 in the first 4 bytes
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

struct BpfHostCounts {
    std::vector<BpfHostCount> hosts;
    std::uint64_t overflow_packets = 0; // both families
    std::uint64_t overflow_bytes = 0;
};

// Which address of the packet is the host.
enum class BpfHostKey { source, destination };

// Which hosts count: every one, or (within) those in a range of their family; a family without
// ranges counts none. Packets of other hosts (and with forwarded_only the host's own) pass
// uncounted.
struct BpfHostFilter {
    bool within = false;
    // Egress only: packets that arrived on a device (skb->ingress_ifindex set), not the host's.
    bool forwarded_only = false;
    std::vector<BpfRange> v4;
    std::vector<BpfRange> v6;
    // The host is the address cut to this prefix (after `within`, which sees it whole).
    unsigned v4_prefix = 32;
    unsigned v6_prefix = 128;
    // Only packets of this IP protocol count (IPv6's after up to 4 extension headers).
    std::optional<std::uint8_t> protocol{};
};

// The counts with each host's address cut to its family's prefix, hosts of one prefix summed:
// what maps of that prefix hold for the same packets (counts carried into them).
BpfHostCounts to_prefixes(const BpfHostCounts& counts, unsigned v4_prefix, unsigned v6_prefix);

class BpfHostCounter {
  public:
    // Maps of `max_hosts` entries per family; the program reads the IP header `link_header`
    // bytes into the frame (14: Ethernet).
    BpfHostCounter(BpfHostMap map, std::uint32_t max_hosts, BpfHostKey key = BpfHostKey::source,
                   unsigned link_header = 14);

    // hash_generations with its maps pinned in the bpffs directory `dir` (v4_g0, v4_g1, v6_g0,
    // v6_g1, overflow, generation): the maps pinned there are used, so a reload keeps their
    // counts; the missing ones are created and pinned. With `program`, the counting program is
    // loaded against them (for attach_pinned()), reading the IP header `link_header` bytes into
    // the frame; without, the maps serve reads and resets.
    static BpfHostCounter pinned(const std::string& dir, std::uint32_t max_hosts, BpfHostKey key,
                                 bool program, unsigned link_header = 14,
                                 const BpfHostFilter& filter = {});
    // Counts through the link pinned at `path`: its program is swapped for this one in place
    // (BPF_LINK_UPDATE: no packet missed or counted twice), or, with no link there (or one
    // whose device went), a new link to the device's ingress or egress is made and pinned.
    void attach_pinned(const std::string& path, int ifindex, bool ingress);

    BpfHostMap map() const { return map_; }
    // Attaches to the ingress (or egress) of the device with this index in the calling thread's
    // network namespace; detach() (or the destructor, or the namespace's end) takes it off.
    void attach(int ifindex, bool ingress = true);
    void detach() { link_.reset(); }
    bool attached() const { return link_.valid(); }

    // Every host counted so far and the overflow (BPF_MAP_LOOKUP_BATCH: each element read
    // whole, no element's counts reset).
    BpfHostCounts read() const;
    // The same, deleting the hosts read in the same call (BPF_MAP_LOOKUP_AND_DELETE_BATCH) and
    // zeroing the overflow after reading it. Exact under traffic only with hash_generations:
    // otherwise a packet whose program found its host before the delete and adds after the
    // copy is lost.
    BpfHostCounts read_and_delete();
    // Puts hosts in the maps from user space (BPF_MAP_UPDATE_BATCH), as the packet path would
    // have left them: for read timings without traffic.
    void fill(const std::vector<BpfHostCount>& hosts);
    // Adds counts to the current generation from user space, before the program counts there:
    // what a counter held in nft sets or in maps of another layout. A host the map cannot take
    // (full) is added to the overflow, as a packet of it would be.
    void carry(const BpfHostCounts& counts);

  private:
    BpfHostCounter() = default;
    BpfHostCounts read(unsigned generation, bool and_delete) const;
    // The generation the program counts in (the pinned maps' readers share it).
    unsigned current() const;
    BpfHostMap map_ = BpfHostMap::none;
    std::uint32_t value_size_ = 0; // of an element as user space sees it (all CPUs' values)
    // Per generation (only the first without hash_generations).
    std::array<UniqueFd, 2> hosts_v4_;
    std::array<UniqueFd, 2> hosts_v6_;
    UniqueFd overflow_;   // {packets, bytes} at 2 * generation + (IPv6 ? 1 : 0)
    UniqueFd generation_; // hash_generations: one u32, the generation counted in
    unsigned current_ = 0;
    UniqueFd program_;
    UniqueFd link_;
};

} // namespace acctc::runtime
