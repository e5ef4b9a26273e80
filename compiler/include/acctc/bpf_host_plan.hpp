// Which `split host` counters acctc counts in a BPF program instead of nft sets
// (docs/performance.md, "65,536 hosts in BPF"; CompileOptions::bpf_hosts): one program on one
// device's TCX hook, keyed by one address of the packet, with a hash map of `size` hosts per IP
// family and an overflow slot. The runtime builds the program and maps from this plan.
#pragma once

#include "acctc/bpf_range.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctc {

enum class BpfHook { ingress, egress };
enum class BpfAddress { source, destination };

struct BpfHostCounterPlan {
    std::string counter;  // the name its hosts are read under (labels: host=<address>)
    std::string declared; // the policy's counter it counts (NAME of NAME_in)
    std::string overflow; // the counter name of what did not fit: <counter>_overflow
    std::string origin;   // "file:line" of the declaration
    std::string device;   // the `via` interface (after aliases)
    BpfHook hook = BpfHook::ingress;
    BpfAddress key = BpfAddress::source;
    std::uint32_t size = 65536; // hosts per family (the map's max_entries, preallocated)
    // What an nft set's and overflow counter's comment would say (acctc/counter_labels.hpp):
    // family, labels, origin and how the hook differs from the wire (tc ingress sees packets
    // merged by GRO, tc egress GSO packets before they are cut up).
    std::string comment;
    std::string overflow_comment;
    // `forward` only: at egress only packets that arrived on a device (not the host's own); at
    // ingress the routing decision is still to come, and the host's own packets count too.
    bool forwarded_only = false;
    // Both directions in one counter (`via IF` without `split direction`): a second program, at
    // the egress, keyed by this address, counts in the same maps (hook is then ingress).
    std::optional<BpfAddress> egress_key{};
    // `split host SIDE /V4 /V6`: the address is cut to its prefix before the lookup, as nft's
    // key `ip saddr & 255.255.255.0` is (the host is the prefix's first address).
    unsigned v4_prefix = 32;
    unsigned v6_prefix = 128;
    // `split protocol`: only packets of this IP protocol count (nft's `meta l4proto`: IPv6's
    // after its extension headers); none: every packet.
    std::optional<std::uint8_t> protocol{};
    // `within`: only hosts in these ranges count, per family; a family without ranges counts
    // none (nft has no set for it). Without `within` every host counts.
    bool within = false;
    std::vector<BpfRange> within_v4{};
    std::vector<BpfRange> within_v6{};
};

} // namespace acctc
