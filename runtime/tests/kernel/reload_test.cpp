// Lossless reload: surviving counters keep counting, removed ones report exact final values.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"
#include "test_policies.hpp"

#include <chrono>
#include <gtest/gtest.h>

namespace acctc::runtime::testing {
namespace {

TEST(Reload, KeepsSurvivorsReportsRemovedStartsNewAtZero) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    UdpTraffic traffic(netns.name(), 9);
    backend->apply(policy_a(), false);
    traffic.send(5);

    const auto report = backend->apply(policy_b(), false);
    EXPECT_FALSE(report.created);
    ASSERT_EQ(report.kept.size(), 1U);
    EXPECT_EQ(report.kept[0].sample.counter, "total");
    EXPECT_EQ(report.kept[0].sample.packets, 5U);
    EXPECT_EQ(report.added, std::vector<std::string>{"only_b"});
    ASSERT_EQ(report.removed.size(), 1U);
    EXPECT_EQ(report.removed[0].sample.counter, "only_a");
    EXPECT_EQ(report.removed[0].sample.packets, 5U);
    EXPECT_EQ(report.removed[0].sample.bytes, 5 * UdpTraffic::wire_bytes);
    EXPECT_EQ(report.removed[0].origin, "t.acct:3");

    traffic.send(3);
    const auto samples = read_counters("t", netns.name());
    ASSERT_EQ(samples.size(), 2U); // only_a is gone from the kernel
    EXPECT_EQ(packets_of(samples, "total"), 8U);
    EXPECT_EQ(packets_of(samples, "only_b"), 3U);
}

TEST(Reload, FiftyReloadsUnderTrafficLoseNothing) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    UdpTraffic traffic(netns.name(), 9);
    traffic.start(20'000'000, 60.0);

    // only_a and only_b take turns counting the same traffic as total: their reported finals
    // plus the live one must add up to everything sent, just like total.
    std::uint64_t removed_packets = 0;
    std::uint64_t removed_bytes = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int reload = 0; reload < 50; ++reload) {
        const auto report = backend->apply(reload % 2 == 0 ? policy_b() : policy_a(), false);
        ASSERT_EQ(report.removed.size(), 1U);
        removed_packets += report.removed[0].sample.packets;
        removed_bytes += report.removed[0].sample.bytes;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    traffic.stop();

    const std::uint64_t sent = traffic.sent();
    const auto samples = read_counters("t", netns.name());
    ASSERT_EQ(samples.size(), 2U);
    EXPECT_GT(removed_packets, 0U);
    EXPECT_EQ(packets_of(samples, "total"), sent);
    EXPECT_EQ(samples[1].bytes, sent * UdpTraffic::wire_bytes); // "total" sorts last
    EXPECT_EQ(removed_packets + packets_of(samples, "only_a"), sent);
    EXPECT_EQ(removed_bytes + samples[0].bytes, sent * UdpTraffic::wire_bytes);
    std::printf("[ measure  ] 50 reloads in %.3f s under %llu packets, all counted\n", seconds,
                static_cast<unsigned long long>(sent));
}

TEST(Reload, ChangedHookPriorityRecreatesTheChainAndKeepsCounters) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    UdpTraffic traffic(netns.name(), 9);
    traffic.send(4);
    auto moved = policy_a();
    const std::string from = "priority filter - 10;";
    moved.definition.replace(moved.definition.find(from), from.size(), "priority filter + 5;");
    const auto report = backend->apply(moved, false);
    EXPECT_TRUE(report.chains_recreated);
    ASSERT_EQ(report.kept.size(), 2U);
    EXPECT_EQ(report.kept[1].sample.packets, 4U);
    traffic.send(2);
    EXPECT_EQ(packets_of(read_counters("t", netns.name()), "total"), 6U);
    EXPECT_NE(netns.nft("list chain inet acctc_t output").find("priority filter + 5;"),
              std::string::npos);
    // Re-applying the same policy keeps the chain.
    EXPECT_FALSE(backend->apply(moved, false).chains_recreated);
}

} // namespace
} // namespace acctc::runtime::testing
