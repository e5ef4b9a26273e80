// The lookup tree of iptables count maps (iptables_tree.hpp): every value an entry holds is led
// to a leaf holding that entry, whatever test between a child's values and its limit the emitter
// writes, and the walk stays logarithmic.
#include "iptables_tree.hpp"

#include <gtest/gtest.h>
#include <random>

namespace acctc::iptables {
namespace {

using rules::MapEntry;

// The leaves a key reaches when every test accepts exactly [first value, last value] of its
// child (`loose` false) or everything up to the child's limit (`loose` true), with the number
// of tests passed on the way.
struct Walk {
    std::size_t leaf = 0;
    std::size_t tests = 0;
};

Walk walk(const LookupTree& tree, const std::vector<u128>& key, bool loose) {
    Walk out;
    std::size_t node = 0;
    while (!tree.nodes[node].children.empty()) {
        const auto& n = tree.nodes[node];
        const u128 v = key[n.field];
        std::size_t next = n.children.back().node;
        for (std::size_t c = 0; c + 1 < n.children.size(); ++c) {
            const auto& child = n.children[c];
            ++out.tests;
            const bool accepted =
                loose ? v <= child.limit
                      : child.values.parts().front().lo <= v && v <= child.values.parts().back().hi;
            if (accepted) {
                next = child.node;
                break;
            }
        }
        node = next;
    }
    out.leaf = node;
    return out;
}

bool holds(const LookupTree& tree, std::size_t leaf, std::size_t entry) {
    const auto& e = tree.nodes[leaf].entries;
    return std::find(e.begin(), e.end(), entry) != e.end();
}

void expect_every_entry_found(const std::vector<MapEntry>& entries, const LookupTree& tree) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
        // The ends and the middle of every field's interval.
        std::vector<std::vector<u128>> keys(1);
        for (const auto& part : entries[i].key) {
            std::vector<std::vector<u128>> more;
            for (const auto& k : keys) {
                for (u128 v : {part.lo, part.hi, part.lo + (part.hi - part.lo) / 2}) {
                    auto next = k;
                    next.push_back(v);
                    more.push_back(std::move(next));
                }
            }
            keys = std::move(more);
        }
        for (const auto& key : keys) {
            for (bool loose : {false, true}) {
                const Walk w = walk(tree, key, loose);
                EXPECT_TRUE(holds(tree, w.leaf, i)) << "entry " << i << (loose ? " loose" : "");
            }
        }
    }
}

MapEntry entry(std::vector<Interval> key, std::string counter) {
    return {std::move(key), std::move(counter)};
}

TEST(LookupTree, FewEntriesStayOneLeaf) {
    std::vector<MapEntry> entries;
    for (u128 p = 0; p < 8; ++p) {
        entries.push_back(entry({{1000 + p, 1000 + p}}, "c"));
    }
    const auto tree = plan_lookup_tree(entries, {16}, {false});
    ASSERT_EQ(tree.nodes.size(), 1U);
    EXPECT_EQ(tree.nodes[0].entries.size(), 8U);
}

TEST(LookupTree, TenThousandPortsTakeFewTests) {
    std::vector<MapEntry> entries;
    for (u128 p = 0; p < 10000; ++p) {
        entries.push_back(entry({{1000 + p, 1000 + p}}, "c" + std::to_string(static_cast<int>(p))));
    }
    const auto tree = plan_lookup_tree(entries, {16}, {false});
    expect_every_entry_found(entries, tree);
    std::size_t worst = 0;
    std::size_t worst_leaf = 0;
    for (u128 p = 0; p < 65536; p += 7) {
        const Walk w = walk(tree, {p}, false);
        worst = std::max(worst, w.tests);
        worst_leaf = std::max(worst_leaf, tree.nodes[w.leaf].entries.size());
    }
    // 10,000 / 8 leaves below 4 levels of at most 7 tests, a leaf of at most 8 entries.
    EXPECT_LE(worst, 28U);
    EXPECT_LE(worst_leaf, 8U);
}

// Chains nested below the root: a node's last child is written into its parent's chain.
std::size_t chain_depth(const LookupTree& tree, std::size_t node) {
    std::size_t deepest = 0;
    const auto& children = tree.nodes[node].children;
    for (std::size_t c = 0; c < children.size(); ++c) {
        const std::size_t own = c + 1 < children.size() ? 1 : 0;
        deepest = std::max(deepest, own + chain_depth(tree, children[c].node));
    }
    return deepest;
}

TEST(LookupTree, StaysWithinTheNestingNfTablesAccepts) {
    // iptables-nft refused a tree of 2 children per node 13 chains deep ("Too many links").
    std::vector<MapEntry> entries;
    for (u128 p = 0; p < 60000; ++p) {
        entries.push_back(entry({{p, p}}, "c"));
    }
    const auto tree = plan_lookup_tree(entries, {16}, {false}, {2, 2, 9, 8});
    EXPECT_LE(chain_depth(tree, 0), 8U);
    expect_every_entry_found(entries, tree);
    for (const auto& node : tree.nodes) {
        EXPECT_LE(node.entries.size(), 2U);
    }
}

TEST(LookupTree, NetworksSplitAtPrefixBoundaries) {
    // 10,000 /30s from 198.19.0.0: most tests are one prefix.
    std::vector<MapEntry> entries;
    const u128 base = (u128{198} << 24) | (u128{19} << 16);
    for (u128 i = 0; i < 10000; ++i) {
        entries.push_back(entry({{base + 4 * i, base + 4 * i + 3}}, "n"));
    }
    const auto tree = plan_lookup_tree(entries, {32}, {true});
    expect_every_entry_found(entries, tree);
    std::size_t tests = 0;
    std::size_t one_prefix = 0;
    for (const auto& node : tree.nodes) {
        for (std::size_t c = 0; c + 1 < node.children.size(); ++c) {
            const auto& child = node.children[c];
            const u128 lo = child.values.parts().front().lo;
            const u128 hi = child.values.parts().back().hi;
            unsigned host = 0;
            while (host < 32 && (lo >> host) != (hi >> host)) {
                ++host;
            }
            ++tests;
            one_prefix += (lo | low_bits(host)) <= child.limit ? 1 : 0;
        }
    }
    EXPECT_GT(one_prefix * 10, tests * 9) << one_prefix << " of " << tests;
}

TEST(LookupTree, ConcatenatedKeysAndOverlapsFindTheirEntries) {
    // Protocol . port with ranges, and entries of one protocol's wide range beside points.
    std::vector<MapEntry> entries;
    for (u128 p = 0; p < 300; ++p) {
        entries.push_back(entry({{p % 2 ? 17u : 6u, p % 2 ? 17u : 6u}, {2000 + p, 2000 + p}},
                                "pp" + std::to_string(static_cast<int>(p))));
    }
    entries.push_back(entry({{132, 132}, {0, 65535}}, "sctp"));
    entries.push_back(entry({{6, 6}, {3000, 4000}}, "tcp_range"));
    entries.push_back(entry({{1, 5}, {0, 0}}, "low_protocols"));
    const auto tree = plan_lookup_tree(entries, {8, 16}, {false, false});
    expect_every_entry_found(entries, tree);
}

TEST(LookupTree, RandomDisjointIntervalsAreFound) {
    std::mt19937 random(17);
    for (int round = 0; round < 20; ++round) {
        std::vector<MapEntry> entries;
        u128 at = random() % 50;
        const std::size_t n = 5 + random() % 400;
        for (std::size_t i = 0; i < n && at < 0xffffffff - 2000; ++i) {
            const u128 length = random() % (random() % 2 ? 3 : 1000);
            entries.push_back(entry({{at, at + length}}, "r" + std::to_string(i % 7)));
            at += length + 1 + random() % (random() % 2 ? 2 : 5000);
        }
        std::shuffle(entries.begin(), entries.end(), random);
        for (const bool aligned : {false, true}) {
            const auto tree =
                plan_lookup_tree(entries, {32}, {aligned}, {2 + random() % 6, 1 + random() % 6});
            expect_every_entry_found(entries, tree);
        }
    }
}

} // namespace
} // namespace acctc::iptables
