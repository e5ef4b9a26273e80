// Which of the hook-versus-wire differences of docs/counting.md apply to a counter: the facts
// the compile-time warnings state and the kernel objects' comments carry to every output.
#pragma once

#include "acctc/counter_labels.hpp"
#include "ir.hpp"
#include "rules.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc {

// The netfilter hooks a match's rules hook.
struct Hooks {
    bool input = false;
    bool output = false;
    bool forward = false;
    bool ingress = false; // passive
};

Hooks hooks_of(const ir::Match& m);

// TCP sets DF and discovers the path MTU: its segments are not fragmented.
bool tcp_only(const ir::Match& m);
// Whether TCP packets can match: no protocol restriction, or one that names TCP.
bool may_count_tcp(const ir::Match& m);

// Whether the nft backend counts what a counter sees leaving at the netdev egress hooks of its
// `via` devices, after the kernel fragments it (as the wire carries it), instead of at the
// output and forward hooks (lower.cpp; docs/counting.md "Leaving fragments"). Only where every
// condition reads the same on each fragment there: protocols, destination addresses,
// fragments, split protocol and direction; not ports or ICMP types (non-first fragments carry
// none), connection tracking (follow, new, split opener: nf_tables refuses `ct` in the netdev
// family), owners (no socket match at a netdev hook), source addresses (source NAT rewrites
// them before egress), lengths (each fragment has its own), per-host sets, peer sets (`peers
// of` this counter) and quotas (objects of the inet table), a forward counter of both directions in one whose devices are not the
// policy's once_devices(), a counter with `drop` (it counts what it drops), wildcard devices;
// and not for TCP alone, which is never fragmented (DF, path MTU discovery). `egress`: the
// backend has egress chains (nft).
bool counts_leaving_at_egress(const ir::Counter& counter, const ir::Policy& policy, bool egress);

// A forward counter of both directions in one (no split direction) takes a packet that
// arrives and leaves via its devices once, when it arrives.
bool counts_once(const ir::Counter& counter);
// The devices (sorted) every counts_once() counter of the policy names, if they all name the
// same: at egress a second packet-mark bit tells what arrived via them (lower.cpp), one list
// per policy. Empty when there is no such counter or they differ.
std::optional<std::vector<std::string>> once_devices(const ir::Policy& policy);

// `scope` holds the hooks and devices (a counter's match, or a classify header); `what` the
// protocol conditions (the same match, or a class's). A following counter counts fragments
// after connection tracking has reassembled them.
// `at_egress`: the leaving side is counted at egress (counts_leaving_at_egress).
rules::WireSides wire_sides(const ir::Match& scope, const ir::Match& what, bool uses_conntrack,
                            bool follows, bool at_egress = false);

// A counter's differences, as lowered for a backend with (nft) or without egress chains: the
// one source of the kernel comments' `w=` facts and of the compile-time warnings.
rules::WireSides counter_wire_sides(const ir::Counter& counter, const ir::Policy& policy,
                                    bool egress);

// The differences of a `split protocol` member: the offloads merge TCP only, and TCP (DF, path
// MTU discovery) is not fragmented.
WireDifferences for_protocol(WireDifferences differences, std::uint8_t protocol);

} // namespace acctc
