// Lossless reload: surviving counters keep counting, removed ones report exact final values.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/unified_diff.hpp"
#include "kernel_fixture.hpp"
#include "test_policies.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <map>

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
    EXPECT_EQ(report.removed[0].origin(), "t.acct:3");

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

// Classify chains as the compiler writes them for UDP classes: an interval map (rbtree) and a
// concatenated one (pipapo), each before its `otherwise` rule, plus a plain counter.
CompiledPolicy classify_policy() {
    return make_policy(
        "c", R"(table inet acctc_c {
	counter total { comment "c.acct:2" }
	counter ports_voice { comment "c.acct:4" }
	counter ports_bulk { comment "c.acct:5" }
	counter ports_other { comment "c.acct:6" }
	counter pairs_voice { comment "c.acct:8" }
	counter pairs_other { comment "c.acct:9" }
	chain output {
		type filter hook output priority filter - 10; policy accept;
		ip daddr 198.18.0.1 meta l4proto udp counter name "total" comment "c.acct:2"
		ip daddr 198.18.0.1 meta l4proto udp jump classify_ports comment "c.acct:3"
		ip daddr 198.18.0.1 meta l4proto udp jump classify_pairs comment "c.acct:7"
	}
	chain classify_ports {
		counter name udp dport map { 1-8 : "ports_bulk", 9 : "ports_voice", 10-5000 : "ports_bulk" } return comment "c.acct:3"
		counter name "ports_other" comment "c.acct:6"
	}
	chain classify_pairs {
		counter name meta l4proto . th dport map { tcp . 9 : "pairs_voice", udp . 9 : "pairs_voice", udp . 20-30 : "pairs_voice" } return comment "c.acct:7"
		counter name "pairs_other" comment "c.acct:9"
	}
}
)",
        {"total", "ports_voice", "ports_bulk", "ports_other", "pairs_voice", "pairs_other"});
}

// Every packet sent (UDP to port 9) counted in `total` and in the voice class of both
// classify chains, none anywhere else.
void expect_all_in_their_class(std::map<std::string, std::uint64_t> counted, std::uint64_t sent,
                               int run) {
    EXPECT_EQ(counted["total"], sent) << "run " << run;
    EXPECT_EQ(counted["ports_voice"], sent) << "run " << run;
    EXPECT_EQ(counted["pairs_voice"], sent) << "run " << run;
    EXPECT_EQ(counted["ports_other"], 0U) << "run " << run;
    EXPECT_EQ(counted["pairs_other"], 0U) << "run " << run;
    EXPECT_EQ(counted["ports_bulk"], 0U) << "run " << run;
}

// The review's finding: alternating `counters --reset` and `apply` of the same policy under UDP
// of one class put 1-3 packets of 300,000 in `otherwise` (a reload re-added every rule, and a
// new interval or concatenated map is empty for a moment after its rules are live).
TEST(Reload, ResetsAndReloadsUnderTrafficNeverMoveAPacketToAnotherClass) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto policy = classify_policy();
    backend->apply(policy, false);
    std::map<std::string, std::uint64_t> counted;
    const auto take = [&] {
        for (const auto& reading : backend->counters("c", true)) {
            counted[reading.sample.counter] += reading.sample.packets;
        }
    };
    std::uint64_t reloads = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int run = 0; run < 3; ++run) {
        UdpTraffic traffic(netns.name(), 9);
        traffic.start(150'000, 15.0);
        for (int round = 0; round < 60; ++round, ++reloads) {
            take();
            backend->apply(policy, false);
        }
        traffic.stop();
        take();
        expect_all_in_their_class(counted, traffic.sent(), run);
        counted.clear();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("[ measure  ] %llu resets and reloads under traffic in %.1f s, every packet in "
                "its class\n",
                static_cast<unsigned long long>(reloads), seconds);
}

// A policy change that changes the classify chains themselves: the changed chains are filled
// before the commit jumps to them, so their new maps are complete before any packet meets them.
TEST(Reload, ChangingTheClassifyChainsUnderTrafficNeverMovesAPacket) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto first = classify_policy();
    auto second = classify_policy();
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"10-5000", "10-6000"},
                                   {"udp . 20-30", "udp . 20-40"}}) {
        second.definition.replace(second.definition.find(from), from.size(), to);
    }
    backend->apply(first, false);
    std::uint64_t reloads = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int run = 0; run < 2; ++run) {
        backend->counters("c", true);
        UdpTraffic traffic(netns.name(), 9);
        traffic.start(150'000, 15.0);
        for (int round = 0; round < 60; ++round, ++reloads) {
            const auto report = backend->apply(round % 2 == 0 ? second : first, false);
            ASSERT_TRUE(report.removed.empty());
        }
        traffic.stop();
        std::map<std::string, std::uint64_t> counted;
        for (const auto& reading : backend->counters("c", true)) {
            counted[reading.sample.counter] = reading.sample.packets;
        }
        expect_all_in_their_class(counted, traffic.sent(), run);
    }
    // At rest: the chains have their names, no staged copy is left, and the table is the policy.
    const std::string listing = netns.nft("list table inet acctc_c");
    EXPECT_EQ(listing.find(".next"), std::string::npos) << listing;
    EXPECT_EQ(unified_diff(backend->live_ruleset("c"), backend->planned_ruleset(first), "live",
                           "planned", 3, without_origin),
              "");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("[ measure  ] %llu reloads changing both classify chains under traffic in %.1f s, "
                "every packet in its class\n",
                static_cast<unsigned long long>(reloads), seconds);
}

// The handles of each rule of a chain, as `nft -a` lists them.
std::string rule_handles_of(const TestNamespace& netns, const std::string& chain) {
    std::string handles;
    const std::string listing = netns.nft("-a list chain inet acctc_c " + chain);
    // The first is the chain's own.
    for (std::size_t at = listing.find("# handle ", listing.find("# handle ") + 1);
         at != std::string::npos; at = listing.find("# handle ", at + 1)) {
        handles += listing.substr(at + 9, listing.find('\n', at) - at - 9) + " ";
    }
    return handles;
}

TEST(Reload, OnlyTheChainsAPolicyChangesAreReplaced) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    auto policy = classify_policy();
    backend->apply(policy, false);
    const std::string ports = rule_handles_of(netns, "classify_ports");
    const std::string pairs = rule_handles_of(netns, "classify_pairs");
    const std::string output = rule_handles_of(netns, "output");
    backend->apply(policy, false);
    EXPECT_EQ(rule_handles_of(netns, "classify_ports"), ports);
    EXPECT_EQ(rule_handles_of(netns, "classify_pairs"), pairs);
    EXPECT_EQ(rule_handles_of(netns, "output"), output);

    // Origins alone (every line moved by one added above) change nothing.
    auto moved = policy;
    for (std::size_t at = moved.definition.find("\"c.acct:"); at != std::string::npos;
         at = moved.definition.find("\"c.acct:", at + 1)) {
        moved.definition.replace(at, 8, "\"./c.acct:1");
    }
    backend->apply(moved, false);
    EXPECT_EQ(rule_handles_of(netns, "classify_ports"), ports);
    EXPECT_EQ(rule_handles_of(netns, "output"), output);

    const std::string from = "udp . 20-30";
    policy.definition.replace(policy.definition.find(from), from.size(), "udp . 20-40");
    backend->apply(policy, false);
    EXPECT_EQ(rule_handles_of(netns, "classify_ports"), ports);
    EXPECT_NE(rule_handles_of(netns, "classify_pairs"), pairs);
    EXPECT_NE(netns.nft("list chain inet acctc_c classify_pairs").find("udp . 20-40"),
              std::string::npos);
}

// What the record says is checked against the kernel: a rule added by hand makes its chain
// changed, and apply puts the policy back.
TEST(Reload, AChainEditedByHandIsReplaced) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto policy = classify_policy();
    backend->apply(policy, false);
    netns.nft("add rule inet acctc_c classify_ports counter name \"ports_bulk\"");
    netns.nft(
        "delete rule inet acctc_c output handle " +
        rule_handles_of(netns, "output").substr(0, rule_handles_of(netns, "output").find(' ')));
    backend->apply(policy, false);
    const std::string ports = netns.nft("list chain inet acctc_c classify_ports");
    EXPECT_EQ(ports.find("counter name \"ports_bulk\"\n"), std::string::npos) << ports;
    const std::string output = netns.nft("list chain inet acctc_c output");
    EXPECT_NE(output.find("counter name \"total\""), std::string::npos) << output;
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
