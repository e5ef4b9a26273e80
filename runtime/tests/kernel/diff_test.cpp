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

CompiledPolicy counting(const std::vector<std::string>& names, const std::string& file = "d.acct",
                        int first_line = 2, int port = 9) {
    std::string definition = "table inet acctc_d {\n";
    int line = first_line;
    for (const auto& name : names) {
        definition +=
            "\tcounter " + name + " { comment \"" + file + ":" + std::to_string(line++) + "\" }\n";
    }
    definition += "\tchain output {\n\t\ttype filter hook output priority filter - 10; policy "
                  "accept;\n";
    for (const auto& name : names) {
        definition += "\t\tip daddr 198.18.0.1 udp dport " + std::to_string(port) +
                      " counter name \"" + name + "\" comment \"" + file + ":" +
                      std::to_string(line++) + "\"\n";
    }
    definition += "\t}\n}\n";
    return make_policy("d", definition, names);
}

// The kernel lists counters in creation order: after a reload that added `a` to a table
// holding `b`, a plain comparison saw them "moved" and diff --live exited 1 right after apply.
TEST(Diff, ACounterAReloadAddedIsInItsPlace) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(counting({"b"}), false);
    const auto both = counting({"a", "b"});
    backend->apply(both, false);
    EXPECT_EQ(unified_diff(backend->live_ruleset("d"), backend->planned_ruleset(both), "live",
                           "d.acct", 3, without_origin),
              "");
}

// Origins name the file as it was typed and move with every line added above: shown, never
// compared. A real change shows as exactly that change.
TEST(Diff, OriginsAreShownNotCompared) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(counting({"a", "b"}), false);
    const std::string live = backend->live_ruleset("d");
    EXPECT_EQ(unified_diff(live, backend->planned_ruleset(counting({"a", "b"}, "./x/../d.acct", 3)),
                           "live", "d.acct", 3, without_origin),
              "");
    const std::string diff =
        unified_diff(live, backend->planned_ruleset(counting({"a", "b"}, "d.acct", 3, 10)), "live",
                     "d.acct", 3, without_origin);
    std::size_t removed = 0;
    std::size_t added = 0;
    for (const auto& line : {std::string("-"), std::string("+")}) {
        for (std::size_t at = diff.find("\n" + line + "\t"); at != std::string::npos;
             at = diff.find("\n" + line + "\t", at + 1)) {
            ++(line == "-" ? removed : added);
        }
    }
    EXPECT_EQ(removed, 2U) << diff; // the two rules, port 9 -> 10
    EXPECT_EQ(added, 2U) << diff;
    EXPECT_NE(diff.find("+\t\tip daddr 198.18.0.1 udp dport 10 counter name \"a\" comment "
                        "\"d.acct:5\"\n"),
              std::string::npos)
        << diff;
}

// The kernel keeps a counter's comment from its creation; the origin shown follows the policy
// applied last.
TEST(Diff, TheOriginOfAKeptCounterFollowsThePolicy) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto origin_of = [&](const std::string& name) {
        for (const auto& reading : backend->counters("d", false)) {
            if (reading.sample.counter == name) {
                return reading.origin();
            }
        }
        return std::string("missing");
    };
    backend->apply(counting({"a", "b"}), false);
    EXPECT_EQ(origin_of("b"), "d.acct:3");
    const auto report = backend->apply(counting({"b"}, "d.acct", 7), false);
    EXPECT_EQ(origin_of("b"), "d.acct:7");
    ASSERT_EQ(report.kept.size(), 1U);
    EXPECT_EQ(report.kept[0].origin(), "d.acct:7");
    ASSERT_EQ(report.removed.size(), 1U);
    EXPECT_EQ(report.removed[0].origin(), "d.acct:2"); // as the policy that had it said
    EXPECT_NE(netns.nft("list counter inet acctc_d b").find("d.acct:3"), std::string::npos);
}

} // namespace
} // namespace acctc::runtime::testing
