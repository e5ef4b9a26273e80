// Reading and atomically resetting counters through netlink object dumps.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"
#include "test_policies.hpp"

#include <gtest/gtest.h>
#include <thread>

namespace acctc::runtime::testing {
namespace {

TEST(Counters, AllPoliciesSortedAndForeignTablesIgnored) {
    TestNamespace netns;
    netns.nft("add table inet foreign \\; add counter inet foreign c");
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    backend->apply(policy_other(), false);
    UdpTraffic(netns.name(), 9).send(7);
    const auto samples = read_counters("", netns.name());
    ASSERT_EQ(samples.size(), 3U);
    EXPECT_EQ(samples[0].policy, "other");
    EXPECT_EQ(samples[0].counter, "seen");
    EXPECT_EQ(samples[0].packets, 7U);
    EXPECT_EQ(samples[1].policy, "t");
    EXPECT_EQ(samples[2].counter, "total");
}

TEST(Counters, UnknownPolicyNamesItsTable) {
    TestNamespace netns;
    try {
        read_counters("nope", netns.name());
        ADD_FAILURE() << "read counters of a policy that is not applied";
    } catch (const RuntimeError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::unknown_table);
        EXPECT_NE(std::string(error.what()).find("no table inet acctc_nope"), std::string::npos);
    }
}

TEST(Counters, ReadingAnotherNamespaceLeavesTheThreadWhereItWas) {
    TestNamespace netns;
    make_backend(BackendKind::nftables, netns.name())->apply(policy_a(), false);
    const auto before = current_netns_id();
    EXPECT_EQ(read_counters("t", netns.name()).size(), 2U);
    EXPECT_EQ(current_netns_id(), before);
}

TEST(Counters, ResetZeroesAndReturnsTheValues) {
    TestNamespace netns;
    netns.nft("add table inet foreign \\; add counter inet foreign c packets 5 bytes 50");
    make_backend(BackendKind::nftables, netns.name())->apply(policy_a(), false);
    UdpTraffic(netns.name(), 9).send(6);
    const auto reset = read_counters("", netns.name(), true);
    ASSERT_EQ(reset.size(), 2U);
    EXPECT_EQ(reset[1].packets, 6U);
    const auto after = read_counters("t", netns.name());
    EXPECT_EQ(after[0].packets, 0U);
    EXPECT_EQ(after[1].bytes, 0U);
    // Resetting all acctc policies never touches anyone else's counters.
    EXPECT_NE(netns.nft("list counter inet foreign c").find("packets 5 bytes 50"),
              std::string::npos);
}

TEST(Counters, ResetsUnderTrafficLoseNothing) {
    TestNamespace netns;
    make_backend(BackendKind::nftables, netns.name())->apply(policy_a(), false);
    UdpTraffic traffic(netns.name(), 9);
    traffic.start(20'000'000, 60.0);
    // Two threads resetting concurrently: the lock serialises them, the kernel makes each
    // list-and-zero atomic, so the sum of what they saw is all that was counted.
    std::uint64_t totals[2] = {0, 0};
    std::uint64_t bytes[2] = {0, 0};
    std::vector<std::thread> resetters;
    for (int t = 0; t < 2; ++t) {
        resetters.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                for (const auto& sample : read_counters("t", netns.name(), true)) {
                    if (sample.counter == "total") {
                        totals[t] += sample.packets;
                        bytes[t] += sample.bytes;
                    }
                }
            }
        });
    }
    for (auto& resetter : resetters) {
        resetter.join();
    }
    traffic.stop();
    const auto final_values = read_counters("t", netns.name());
    ASSERT_EQ(final_values.size(), 2U);
    EXPECT_GT(totals[0] + totals[1], 0U);
    EXPECT_EQ(totals[0] + totals[1] + final_values[1].packets, traffic.sent());
    EXPECT_EQ(bytes[0] + bytes[1] + final_values[1].bytes, traffic.sent() * UdpTraffic::wire_bytes);
}

} // namespace
} // namespace acctc::runtime::testing
