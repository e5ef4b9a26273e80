// Which classifications acctc counts in a BPF program instead of nft rules (docs/runtime.md,
// "Classes in BPF"; CompileOptions::bpf_classes): a classification on one device and direction
// whose classes are all TCP or UDP destination ports, or all networks on one side of the packet.
// The program finds the class owning the packet's key (a slot from its protocol and destination
// port, BpfPortSlots; or its address in a longest-prefix-match trie) and adds the packet to that
// class's counter; the first-match partition is made here, so the program never walks the
// classes. The runtime builds the program and maps from this plan.
#pragma once

#include "acctc/bpf_host_plan.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace acctc {

// The slots a packet can land in: TCP's 65,536 destination ports, then UDP's, then one for every
// other packet in the classification's scope (other protocols, fragments without ports).
struct BpfPortSlots {
    static constexpr std::size_t ports = 65536;
    static constexpr std::size_t tcp = 0;
    static constexpr std::size_t udp = ports;
    static constexpr std::size_t other = 2 * ports;
    static constexpr std::size_t count = other + 1;
};

// Class indices a program has: one per class and `otherwise`.
constexpr std::size_t bpf_max_classes = BpfPortSlots::count + 1;

// Destination ports first..last (inclusive) of one protocol (6 or 17).
struct BpfPortRange {
    std::uint8_t protocol = 6;
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    friend bool operator==(const BpfPortRange&, const BpfPortRange&) = default;
};

// What a program keys its counts by: a classification's program looks a packet's class up by
// it; a per-host counter's program counts by an address. As far as NAT goes, a TCX program sees
// it as it is on the device (at egress after source NAT, at ingress before destination NAT and
// before a reply is translated back), where nft's rules see it untranslated.
enum class BpfKey { source_address, destination_address, destination_port };

// An address prefix of one family: `length` leading bits of `address` (network order; IPv4 in
// the first 4 bytes, the rest zero).
struct BpfPrefix {
    bool ipv6 = false;
    std::array<std::uint8_t, 16> address{};
    std::uint8_t length = 0;
    friend bool operator==(const BpfPrefix&, const BpfPrefix&) = default;
};

struct BpfClass {
    std::string counter; // the class's counter name, as nft's table would have it
    std::string comment; // what that counter's comment would say (acctc/counter_labels.hpp)
    // The slots this class owns after first match (a port an earlier class takes is not here);
    // sorted, not overlapping. Empty for a class earlier classes cover entirely.
    std::vector<BpfPortRange> ports;
    // Keyed by address: the prefixes this class puts in the trie. The longest prefix holding an
    // address names its class, so a prefix inside one an earlier class put there is left out (the
    // earlier class takes it), and an earlier class's longer prefix inside this class's ones
    // stays the earlier's. Empty for a class earlier classes cover entirely.
    std::vector<BpfPrefix> prefixes;
    // `otherwise`: every slot no class owns and the `other` slot; every address in no prefix.
    bool otherwise = false;
};

struct BpfClassifyPlan {
    std::string classify;            // the classification's name
    std::string origin;              // "file:line" of the declaration
    std::string device;              // the header's `via` interface (after aliases)
    BpfHook hook = BpfHook::ingress; // `in via`: ingress; `out via`: egress
    BpfKey key = BpfKey::destination_port;
    // `forward` only: at egress only packets that arrived on a device (not the host's own); at
    // ingress the routing decision is still to come, and packets to the host count too.
    bool forwarded_only = false;
    std::vector<BpfClass> classes; // in the classification's order, `otherwise` last
};

} // namespace acctc
