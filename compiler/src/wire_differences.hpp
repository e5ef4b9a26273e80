// Which of the hook-versus-wire differences of docs/counting.md apply to a counter: the facts
// the compile-time warnings state and the kernel objects' comments carry to every output.
#pragma once

#include "acctc/counter_labels.hpp"
#include "ir.hpp"
#include "rules.hpp"

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

// `scope` holds the hooks and devices (a counter's match, or a classify header); `what` the
// protocol conditions (the same match, or a class's). A following counter counts fragments
// after connection tracking has reassembled them.
rules::WireSides wire_sides(const ir::Match& scope, const ir::Match& what, bool uses_conntrack,
                            bool follows);

// The differences of a `split protocol` member: the offloads merge TCP only, and TCP (DF, path
// MTU discovery) is not fragmented.
WireDifferences for_protocol(WireDifferences differences, std::uint8_t protocol);

} // namespace acctc
