// Stage 4, emit (iptables), `split host`: a host set is an ipset of type hash:ip with the
// `counters` extension (docs/iptables.md, "Per-host counters"). What the iptables emitter
// writes for it: the set's create line, the rules that count a packet in its host's element
// (adding the host first), and the lookups of the overflow rule.
//
// Kernel semantics these rely on (net/netfilter/ipset, Linux 6.18, measured in a namespace):
// - a `-m set --match-set` that finds the element adds the packet to its counters unless
//   `! --update-counters` is given, also when the match is negated (`! --match-set`);
// - `-j SET --add-set` creates the element with the packet already counted (packets 1, bytes
//   skb->len), fails when it exists, and with `--exist` would overwrite its counters with that
//   one packet: so it never has --exist, and it runs only for packets whose host is missing;
// - on a full set (maxelem) the add fails and the host stays missing, which the overflow rule
//   after it matches.
#pragma once

#include "rules.hpp"

#include <string>
#include <vector>

namespace acctc::ipset_hosts {

// Whether a dynamic set holds per-host counters (else it is a peer set with a timeout).
inline bool counts(const rules::DynamicSet& set) {
    return set.identity.has_value();
}

// Whether a set lookup or add of this field takes the packet's source (`src`), else `dst`.
inline bool source_side(rules::Field field) {
    return field == rules::Field::ip_saddr || field == rules::Field::ip6_saddr ||
           field == rules::Field::ether_saddr;
}

// The set's role in the policy's ipset names (iptables_names.hpp): its shape is part of it,
// so a changed size or prefix is a new, empty set (as nft re-creates a set whose shape changed)
// and `ipset -exist restore` only ever meets an identical one, whose hosts and counts it keeps.
std::string role(const rules::DynamicSet& set);

// `ipset restore` line: hash:ip with counters, maxelem = size, a netmask for a prefix.
std::string create_line(const std::string& ipset, const rules::DynamicSet& set);

// The option of a `-m set` lookup; a lookup in a counting set never updates its counters.
std::string lookup(const std::string& ipset, bool source, bool negate, bool counting);

// One iptables rule of an update: its `-m set` option, comment and target.
struct UpdateRule {
    std::string match;
    std::string comment;
    std::string target; // empty: none
};

// Count the packet in its host's element when it is there (the rule whose comment names the set
// and its counter for the runtime: acctc/ipset_host_comment.hpp), else add the host, counting
// the packet. then_return (nft's `update @set { key } return`): return from the chain once the
// host is counted, so a known host takes one lookup and only a host the full set refused goes on.
std::vector<UpdateRule> update_rules(const std::string& ipset, bool source,
                                     const rules::DynamicSet& set, const std::string& origin,
                                     bool then_return);

} // namespace acctc::ipset_hosts
