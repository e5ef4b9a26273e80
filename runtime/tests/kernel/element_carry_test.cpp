// Reloads of a large classification (docs/runtime.md, "Large classifications") lose nothing and
// count nothing twice: a key that moves to another class leaves its history with the old class
// (a carry), a change in the number of parts or across the element-counter threshold keeps
// every class's total, a class removed is reported with its final count, all while packets
// flow. Every total is checked against what the senders sent.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"

#include <atomic>
#include <cstdint>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <thread>

namespace acctc::runtime::testing {
namespace {

constexpr std::uint16_t first_port = 1000;

std::uint16_t port_of(int index) {
    return static_cast<std::uint16_t>(first_port + index);
}

// Classes c0 .. c<count-1>, each counting UDP to port 1000+i, but those in `without`;
// `extra`: more ports, each given to a class. In parts unless `one_set_keys` (at most that many
// keys are one set: CompileOptions::element_one_set_keys).
CompiledPolicy classes(int count, const std::map<std::uint16_t, int>& extra = {},
                       const std::set<int>& without = {}, std::size_t one_set_keys = 0) {
    std::string text = "policy carry\nclassify svc local out include loopback {\n";
    for (int i = 0; i < count; ++i) {
        if (without.count(i) != 0) {
            continue;
        }
        text += "    c" + std::to_string(i) + ": udp dport " + std::to_string(port_of(i));
        for (const auto& [port, owner] : extra) {
            if (owner == i) {
                text += ", " + std::to_string(port);
            }
        }
        text += "\n";
    }
    text += "    otherwise: rest\n}\n";
    CompileOptions options;
    options.element_one_set_keys = one_set_keys;
    auto result = compile_source("carry.acct", text, options);
    if (!result.output) {
        ADD_FAILURE() << "the policy does not compile";
        return {};
    }
    return std::move(*result.output);
}

std::map<std::string, std::uint64_t> packets(const TestNamespace& netns) {
    return packets_by_counter(read_counters("carry", netns.name(), false));
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

TEST(ElementCarry, AKeyMovingBetweenClassesUnderTrafficLeavesItsHistoryWithTheOldClass) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classes(5000, {{30007, 7}}), false);
    UdpTraffic(netns.name(), port_of(7)).send(1);
    UdpTraffic(netns.name(), 30007).send(3);
    // 30007 moves to c8 (a reload without traffic): c7 keeps all 4, c8 counts 30007 from now.
    const auto moved = backend->apply(classes(5000, {{30007, 8}}), false);
    EXPECT_TRUE(moved.sets_removed.empty()); // a retired part's counts are carried, not gone
    EXPECT_TRUE(moved.removed.empty());
    UdpTraffic(netns.name(), 30007).send(2);
    auto counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c7"), 4U);
    EXPECT_EQ(counts.at("svc_c8"), 2U);
    // The carry is the class's, not the key's: no counting element names c7 for 30007.
    const std::string listing = netns.nft("list table inet acctc_carry");
    EXPECT_EQ(listing.find("30007 counter packets 0 bytes 0 comment \"svc_c7 "), std::string::npos);
    EXPECT_NE(listing.find("_carry"), std::string::npos);

    // Back and forth under traffic: every packet to 30007 is in c7 or c8, once.
    UdpTraffic mover(netns.name(), 30007);
    UdpTraffic steady(netns.name(), port_of(4321));
    mover.start(400000, 4.0);
    steady.start(400000, 4.0);
    for (int reload = 0; reload < 6; ++reload) {
        backend->apply(classes(5000, {{30007, reload % 2 == 0 ? 7 : 8}}), false);
    }
    mover.stop();
    steady.stop();
    counts = packets(netns);
    EXPECT_GT(mover.sent(), 0U);
    EXPECT_EQ(counts.at("svc_c7") + counts.at("svc_c8"), 4U + 2U + mover.sent());
    EXPECT_EQ(counts.at("svc_c4321"), steady.sent());
    // A reset zeroes the carries too.
    read_counters("carry", netns.name(), true);
    counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c7"), 0U);
    EXPECT_EQ(counts.at("svc_c8"), 0U);
    // `acctc diff --live` sees the policy as compiled: generations under their compiled names,
    // carry sets left out (data, as counter values are).
    const auto last = classes(5000, {{30007, 8}});
    EXPECT_NE(netns.nft("list table inet acctc_carry").find("_g1 {"), std::string::npos);
    EXPECT_EQ(backend->live_ruleset("carry"), backend->planned_ruleset(last));
}

// A read racing with reloads that move a key (old sets retired, carries written) must never
// see a class twice or miss one: the sum of the two classes the key moves between only grows,
// and ends at what was sent.
TEST(ElementCarry, ReadsDuringReloadsNeitherDipNorCountTwice) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classes(5000, {{30007, 7}}), false);
    UdpTraffic mover(netns.name(), 30007);
    mover.start(2000000, 6.0);
    std::atomic<bool> done{false};
    std::thread reloads([&] {
        for (int reload = 0; reload < 8; ++reload) {
            backend->apply(classes(5000, {{30007, reload % 2 == 0 ? 8 : 7}}), false);
        }
        done = true;
    });
    std::uint64_t last = 0;
    int reads = 0;
    while (!done) {
        try {
            const auto counts = packets(netns);
            const std::uint64_t sum = counts.at("svc_c7") + counts.at("svc_c8");
            EXPECT_GE(sum, last) << "read " << reads;
            // The sender counts a datagram once sendto() returns, the kernel during it.
            EXPECT_LE(sum, mover.sent() + 1) << "read " << reads;
            last = sum;
        } catch (const std::exception& error) {
            ADD_FAILURE() << "read " << reads << ": " << error.what();
        }
        ++reads;
    }
    reloads.join();
    mover.stop();
    const auto counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c7") + counts.at("svc_c8"), mover.sent());
    EXPECT_GT(reads, 3);
}

TEST(ElementCarry, AChangeInTheNumberOfPartsUnderTrafficKeepsEveryTotal) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto small = classes(5000); // 16 parts
    const auto large = classes(9000); // 32 parts
    ASSERT_LT(small.element_sets.size(), large.element_sets.size());
    backend->apply(small, false);
    UdpTraffic(netns.name(), port_of(5)).send(4);
    UdpTraffic(netns.name(), port_of(4999)).send(2);
    UdpTraffic steady(netns.name(), port_of(4321));
    steady.start(400000, 4.0);
    backend->apply(large, false);
    UdpTraffic(netns.name(), port_of(8000)).send(3);
    backend->apply(small, false); // c8000 removed on the way back
    backend->apply(large, false);
    steady.stop();
    const auto counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c5"), 4U);
    EXPECT_EQ(counts.at("svc_c4999"), 2U);
    EXPECT_EQ(counts.at("svc_c4321"), steady.sent());
    EXPECT_EQ(counts.at("svc_c8000"), 0U); // a new class, not the removed one's count
    EXPECT_EQ(counts.size(), 9001U);
    // Keys that stay in their class start the new part where the old one was: only what
    // counted during a reload is carried, not every class's history.
    const std::string listing = netns.nft("list table inet acctc_carry");
    EXPECT_LE(occurrences(listing, "comment \"svc_"), 9000U + 3U) << listing.size();
}

// Applies `first`, `second`, `first`, `second` while c1234 counts a steady flow and c5 gets 4, 1
// and 2 packets between the reloads; the counters of `second` after it all.
std::map<std::string, std::uint64_t> alternated_under_traffic(const CompiledPolicy& first,
                                                              const CompiledPolicy& second) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(first, false);
    UdpTraffic(netns.name(), port_of(5)).send(4);
    UdpTraffic steady(netns.name(), port_of(1234));
    steady.start(400000, 4.0);
    backend->apply(second, false);
    UdpTraffic(netns.name(), port_of(5)).send(1);
    backend->apply(first, false);
    UdpTraffic(netns.name(), port_of(5)).send(2);
    backend->apply(second, false);
    steady.stop();
    auto counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c5"), 7U);
    EXPECT_EQ(counts.at("svc_c1234"), steady.sent());
    return counts;
}

// One set (up to 16,384 keys by default) and parts, either way, as a classification crossing
// the bound: the lookup rule moves between the classification's chain and the parts' chains.
TEST(ElementCarry, BetweenOneSetAndPartsUnderTrafficKeepsEveryTotal) {
    const auto one = classes(5000, {}, {}, SIZE_MAX);
    const auto parts = classes(5000);
    ASSERT_EQ(one.element_sets.size(), 1U);
    ASSERT_GT(parts.element_sets.size(), 1U);
    const auto counts = alternated_under_traffic(one, parts);
    EXPECT_EQ(counts.at("svc_c4999"), 0U);
    EXPECT_EQ(counts.size(), 5001U);
}

TEST(ElementCarry, CrossingTheElementCounterThresholdUnderTrafficKeepsEveryTotal) {
    const auto elements = classes(5000);
    const auto objects = classes(3000);
    ASSERT_FALSE(elements.element_sets.empty());
    ASSERT_TRUE(objects.element_sets.empty());
    const auto counts = alternated_under_traffic(elements, objects);
    EXPECT_EQ(counts.size(), 3001U);
    EXPECT_EQ(counts.count("svc_c4000"), 0U);
}

TEST(ElementCarry, AClassRemovedIsReportedWithItsFinalCountCarryIncluded) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classes(5000, {{30007, 7}}), false);
    UdpTraffic(netns.name(), port_of(9)).send(3);
    UdpTraffic(netns.name(), 30007).send(2);
    backend->apply(classes(5000, {{30007, 8}}), false); // c7 carries 2
    UdpTraffic(netns.name(), port_of(7)).send(1);
    UdpTraffic steady(netns.name(), port_of(4321));
    steady.start(400000, 4.0);
    const auto report = backend->apply(classes(5000, {{30007, 8}}, {7, 9}), false);
    steady.stop();
    std::map<std::string, std::uint64_t> removed;
    for (const auto& reading : report.removed) {
        removed[reading.sample.counter] = reading.sample.packets;
    }
    EXPECT_EQ(removed, (std::map<std::string, std::uint64_t>{{"svc_c7", 3}, {"svc_c9", 3}}));
    const auto counts = packets(netns);
    EXPECT_EQ(counts.count("svc_c7"), 0U);
    EXPECT_EQ(counts.count("svc_c9"), 0U);
    EXPECT_EQ(counts.at("svc_c4321"), steady.sent());
    const std::string listing = netns.nft("list table inet acctc_carry");
    EXPECT_EQ(listing.find("\"svc_c7 "), std::string::npos);
}

} // namespace
} // namespace acctc::runtime::testing
