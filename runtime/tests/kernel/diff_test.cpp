// diff: what a policy would load, normalised by nft itself, against what the kernel holds.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/unified_diff.hpp"
#include "kernel_fixture.hpp"
#include "test_policies.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime::testing {
namespace {

TEST(Diff, LiveEqualsPlannedAfterApplyAndReloads) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    EXPECT_EQ(backend->live_ruleset("t"), "");
    backend->apply(policy_a(), false);
    UdpTraffic(netns.name(), 9).send(5); // counter values must not show
    EXPECT_EQ(
        unified_diff(backend->live_ruleset("t"), backend->planned_ruleset(policy_a()), "a", "b"),
        "");
    // `total` survives with the comment it was created with; the diff does not care.
    backend->apply(policy_b(), false);
    EXPECT_EQ(backend->live_ruleset("t"), backend->planned_ruleset(policy_b()));
}

TEST(Diff, ShowsWhatAReloadWouldChange) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    const std::string diff = unified_diff(backend->live_ruleset("t"),
                                          backend->planned_ruleset(policy_b()), "live", "t.acct");
    EXPECT_EQ(diff.rfind("--- live\n+++ t.acct\n@@ ", 0), 0U) << diff;
    EXPECT_NE(diff.find("+\tchain classify {\n"), std::string::npos) << diff;
    EXPECT_NE(diff.find("-\tcounter only_a {\n"), std::string::npos) << diff;
    EXPECT_EQ(diff.find("packets"), std::string::npos) << diff;
    // Planning happens in a scratch namespace: the live table is untouched.
    EXPECT_EQ(netns.nft("list tables"), "table inet acctc_t\n");
}

} // namespace
} // namespace acctc::runtime::testing
