// The iptables walk of a count map: a classification of N classes is one nft map lookup, but
// iptables walks rules. Its entries are arranged into a search tree of chains instead of one
// rule per entry: each inner chain tests the key against a few value ranges and goes to the
// chain below that holds the range (`-g`), so a packet passes O(log N) rules; a leaf holds a
// few entries' exact rules, each going to its counter, and a packet no entry matches leaves by
// the miss path. Only the leaves decide what counts: a range test may accept more values than
// its child holds (an address prefix wider than the child's addresses, the values between
// entries), as long as it accepts none of a later sibling's entries. Entries are disjoint, so
// the one entry a packet matches is always in the leaf its tests lead to.
#pragma once

#include "rules.hpp"

#include <cstddef>
#include <vector>

namespace acctc::iptables {

struct LookupNode {
    // A leaf (no children): the entries (indices into the map's entries) whose exact rules it
    // holds, in the map's order.
    std::vector<std::size_t> entries;
    // An inner node: the key field (index into the map's key) its children split. Tested in
    // order; the last child takes what the others did not (no test).
    std::size_t field = 0;
    struct Child {
        IntervalSet values; // every value of the field the child's entries hold
        u128 limit = 0;     // the test may accept values up to this one (below the next child)
        std::size_t node = 0;
    };
    std::vector<Child> children;
};

struct LookupTree {
    std::vector<LookupNode> nodes; // nodes[0] is the root; a lone leaf root: no tree needed
};

// At most `leaf_size` entries in a leaf, at most `fanout` children per inner node; maps of
// fewer than `min_entries` entries stay one leaf (their rules in order cost no more than a
// test and a leaf). 8 and 8: at 10,000 classes 4 and 4, 8 and 8, 16 and 16 forwarded the same
// within the bench's noise (docs/performance.md), and 8 makes half the chains of 4.
struct LookupShape {
    std::size_t leaf_size = 8;
    std::size_t fanout = 8;
    std::size_t min_entries = 9;
    // Chains below the tree's root on any path. nf_tables refuses rulesets whose jumps and
    // gotos nest 16 deep (EMLINK: "Too many links"), and iptables-nft's chains are nf_tables
    // chains: the tree keeps within this many levels by widening its nodes.
    std::size_t max_depth = 8;
};

// `widths` are the bit widths of the key's fields; address fields (`aligned`) prefer splits at
// prefix boundaries, so that a child's test is one `-s PREFIX`.
LookupTree plan_lookup_tree(const std::vector<rules::MapEntry>& entries,
                            const std::vector<unsigned>& widths, const std::vector<bool>& aligned,
                            LookupShape shape = {});

} // namespace acctc::iptables
