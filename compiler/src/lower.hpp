// Stage 3, lower: ir::Policy -> rules::Table. Places every counter on the hooks its scope and
// direction name, orders each base chain as connection marks, then counts, then verdicts (so
// the first packet of a connection is counted and verdicts never hide a count), and lowers
// exclusive classifications to one map lookup where the classes allow it.
#pragma once

#include "acctc/diagnostics.hpp"
#include "ir.hpp"
#include "rules.hpp"

namespace acctc {

// Warnings (unreachable classes) go to diagnostics; lowering itself cannot fail.
// Where the backend can hook: iptables has no chain before conntrack's defragmentation that
// acctc uses, so its fragment counters stay at INPUT/FORWARD (check_iptables refuses the
// policies where that counts differently).
// iptables has no hash dispatch to chains (and reads an ipset linearly): its `split host` sets
// stay whole, where nft's large ones are split into parts (lower.cpp, host_parts()).
// egress: leaving packets counted at the netdev egress hooks of their devices where
// counts_leaving_at_egress() allows (nft only: iptables has no egress hook).
// quota_warn_objects: a quota's warning level is an object of its own, charged beside the
// limit (nft); iptables' nfacct quotas are one object whose warning level is read (polled).
struct LowerOptions {
    bool fragments_before_defrag = true;
    bool host_parts = true;
    bool egress = true;
    bool quota_warn_objects = true;
};

// The bit of the packet (skb) mark that tells forwarded packets from this host's own at the
// egress chains: set in the forward chain for what leaves via a device with an egress chain,
// cleared by that chain once counted (fragments inherit the mark). docs/counting.md.
inline constexpr std::uint32_t forwarded_mark_bit = 0x20000000;
// Set with it on what also arrived via the devices of the policy's forward counters of both
// directions (once_devices()): those count it once, when it arrives.
inline constexpr std::uint32_t arrived_via_mark_bit = 0x10000000;

rules::Table lower_policy(const ir::Policy& policy, Diagnostics& diagnostics,
                          LowerOptions options = {});

// The warning for a class the earlier classes of its classification take every packet of
// (the lowering's runs find them, and the partition of a classification counted in BPF).
void warn_never_matches(const ir::Classify& classify, const ir::Class& cls,
                        Diagnostics& diagnostics);

// Past this many entries a concatenated key map is not worth its memory; rules are used.
inline constexpr std::size_t max_concat_entries = 1 << 20;

} // namespace acctc
