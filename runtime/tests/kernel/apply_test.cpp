// apply: atomic load, dry run, kernel errors mapped back to the policy line.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/errors.hpp"
#include "kernel_fixture.hpp"
#include "test_policies.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime::testing {
namespace {

TEST(Apply, LoadsThePolicyAndItsCountersCount) {
    TestNamespace netns;
    const auto report = make_backend(BackendKind::nftables, netns.name())->apply(policy_a(), false);
    EXPECT_TRUE(report.created);
    EXPECT_EQ(report.added, (std::vector<std::string>{"only_a", "total"}));
    EXPECT_TRUE(report.kept.empty());
    EXPECT_TRUE(report.removed.empty());

    UdpTraffic traffic(netns.name(), 9);
    traffic.send(10);
    UdpTraffic(netns.name(), 10).send(4); // another port: not counted
    const auto samples = read_counters("t", netns.name());
    ASSERT_EQ(samples.size(), 2U);
    EXPECT_EQ(samples[0].counter, "only_a");
    EXPECT_EQ(samples[1].counter, "total");
    for (const auto& sample : samples) {
        EXPECT_EQ(sample.policy, "t");
        EXPECT_EQ(sample.packets, 10U);
        EXPECT_EQ(sample.bytes, 10 * UdpTraffic::wire_bytes);
    }
}

TEST(Apply, DryRunValidatesInTheKernelButChangesNothing) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto report = backend->apply(policy_a(), true);
    EXPECT_TRUE(report.dry_run);
    EXPECT_EQ(report.added.size(), 2U);
    EXPECT_EQ(netns.nft("list ruleset"), "");

    backend->apply(policy_a(), false);
    UdpTraffic(netns.name(), 9).send(3);
    const auto dry = backend->apply(policy_b(), true);
    ASSERT_EQ(dry.removed.size(), 1U);
    EXPECT_EQ(dry.removed[0].sample.counter, "only_a");
    EXPECT_EQ(dry.removed[0].sample.packets, 3U);
    // Still policy A, values untouched.
    const auto samples = read_counters("t", netns.name());
    ASSERT_EQ(samples.size(), 2U);
    EXPECT_EQ(samples[0].counter, "only_a");
    EXPECT_EQ(samples[1].packets, 3U);
}

CompiledPolicy broken_policy() {
    return make_policy("t", R"(table inet acctc_t {
	counter total { comment "t.acct:2" }
	chain output {
		type filter hook output priority filter; policy accept;
		udp dport 9 counter name "total" comment "t.acct:5"
		udp dport 10 counter name "missing" comment "t.acct:6"
	}
}
)",
                       {"total"});
}

TEST(Apply, KernelErrorsPointAtThePolicyLine) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    for (bool dry_run : {true, false}) {
        try {
            backend->apply(broken_policy(), dry_run);
            ADD_FAILURE() << "the kernel accepted a rule naming a missing counter";
        } catch (const RuntimeError& error) {
            EXPECT_EQ(error.kind(), ErrorKind::rejected);
            const std::string message = error.what();
            EXPECT_EQ(message.rfind("t.acct:6: error: Could not process rule:", 0), 0U) << message;
            EXPECT_NE(message.find("udp dport 10 counter name \"missing\""), std::string::npos);
        }
    }
    // The failed transaction left policy A whole.
    const auto samples = read_counters("t", netns.name());
    ASSERT_EQ(samples.size(), 2U);
    EXPECT_EQ(samples[0].counter, "only_a");
}

TEST(Apply, RefusesTablesAcctcDoesNotOwn) {
    TestNamespace netns;
    auto policy = policy_a();
    policy.table_name = "filter";
    EXPECT_THROW(make_backend(BackendKind::nftables, netns.name())->apply(policy, false),
                 RuntimeError);
}

TEST(Apply, UnknownNamespaceIsNamed) {
    try {
        make_backend(BackendKind::nftables, "acctc-rt-does-not-exist");
        ADD_FAILURE() << "entered a namespace that does not exist";
    } catch (const RuntimeError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::netns);
        EXPECT_NE(std::string(error.what()).find("'acctc-rt-does-not-exist'"), std::string::npos);
    }
}

} // namespace
} // namespace acctc::runtime::testing
