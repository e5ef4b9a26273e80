// Wire-exact counts under segmentation offload and GRO (docs/counting.md, "Segmentation offload
// and GRO"): for counters the nft rules count on `via` devices, a TCX program per device and
// direction adds what a merged packet (gso_segs > 1) stands for on the wire and the hook did not
// count — gso_segs - 1 packets and as many network + transport headers — to a per-counter slot
// the readers add to the nft counter. The program classifies each merged packet with the same
// conditions as the nft rules that count it. The compiler plans; the runtime
// (runtime/src/bpf_wire_program.cpp) assembles and attaches.
#pragma once

#include "acctc/bpf_range.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace acctc {

// What a condition reads of a merged packet.
enum class WireField : std::uint8_t {
    family,  // 4 or 6
    l4proto, // the protocol after the IP header (IPv6: the next header field)
    sport,   // transport source port (TCP and UDP: the only merged transports corrected)
    dport,
    saddr4, // IPv4 addresses; a condition on them fails on IPv6 packets, as nft's does
    daddr4,
    saddr6,
    daddr6,
};

// The value is in one of the ranges (negate: in none; a field of the other family fails both).
struct WireCondition {
    WireField field = WireField::family;
    bool negate = false;
    std::vector<BpfRange> ranges;
    friend bool operator==(const WireCondition&, const WireCondition&) = default;
};

// Which packets of the device's hook a rule counts: at ingress, those the routing table delivers
// to this host (input hook) or forwards (forward hook); at egress, this host's (a socket's) or
// forwarded ones (no socket).
enum class WireScope : std::uint8_t { any, local, forwarded };

// One nft rule that counts a counter, as the program checks it: every condition holds.
struct WireRule {
    std::size_t counter = 0; // an index into BpfWirePlan::counters
    WireScope scope = WireScope::any;
    std::vector<WireCondition> conditions;
    // Forwarded packets that arrived via one of these devices are not counted here (a counter of
    // both directions counts them once, on arrival: docs/counting.md, "Leaving fragments").
    std::vector<std::string> not_arrived_via;
    std::string origin; // file:line
};

struct WireHook {
    std::string device;
    bool ingress = true; // TCX ingress (what arrives) or egress (what leaves)
    std::vector<WireRule> rules;
};

// A quota (not per host) that sums corrected counters: the programs add their correction to a
// slot of the quota's own, which `acctc quotas` adds to the kernel's charge and takes off the
// kernel objects' budgets (docs/counting.md, "Quotas on corrected counters").
struct WireQuota {
    std::string name;        // the quota; its objects are NAME and NAME_warn
    std::uint64_t limit = 0; // as declared (the kernel objects' budgets get lowered)
    std::uint64_t warn = 0;
    std::vector<std::size_t> counters; // indices into BpfWirePlan::counters it sums
    friend bool operator==(const WireQuota&, const WireQuota&) = default;
};

struct BpfWirePlan {
    std::vector<std::string> counters; // the kernel counter names corrected
    std::vector<std::string> declared; // the policy's counters they belong to, as declared
    std::vector<WireHook> hooks;
    std::vector<WireQuota> quotas;
    bool empty() const { return counters.empty(); }
};

} // namespace acctc
