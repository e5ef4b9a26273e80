// A reload that changes no rule, chain, set or object (the same policy applied again) is the
// counters added and removed in one netlink transaction, without libnftables: every count is
// kept, the rules stay as they are, and a counter the table holds without the policy declaring
// it is deleted with its final value reported.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"
#include "nft_inventory.hpp"

#include <gtest/gtest.h>
#include <map>
#include <memory>

namespace acctc::runtime::testing {
namespace {

constexpr int classes = 2000;
constexpr std::uint16_t first_port = 1000;

// `classes` UDP port classes counted on the way out, as `acctc bench` writes them.
CompiledPolicy classify_ports() {
    std::string text = "policy many\nclassify svc local out include loopback {\n";
    for (int i = 0; i < classes; ++i) {
        text +=
            "    c" + std::to_string(i) + ": udp dport " + std::to_string(first_port + i) + "\n";
    }
    text += "    otherwise: rest\n}\n";
    auto result = compile_source("many.acct", text);
    if (!result.output) {
        ADD_FAILURE() << "the policy does not compile";
        return {};
    }
    return std::move(*result.output);
}

std::uint32_t generation_in(const TestNamespace& netns) {
    const NetnsScope inside(netns.name());
    NftNetlink netlink;
    return ruleset_generation(netlink);
}

std::map<std::string, CounterSample> by_name(const std::vector<CounterSample>& samples) {
    std::map<std::string, CounterSample> out;
    for (const auto& sample : samples) {
        out[sample.counter] = sample;
    }
    return out;
}

TEST(CountersOnlyReload, TheSamePolicyAgainKeepsEveryCountAndTouchesNoRule) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto policy = classify_ports();
    ASSERT_EQ(policy.counters.size(), static_cast<std::size_t>(classes + 1));
    backend->apply(policy, false);
    // Classes at both ends of the map and in the middle, each with its own count.
    // Each datagram to a closed port brings an ICMP error back over loopback: `otherwise`.
    std::map<int, std::uint64_t> sent{{0, 3}, {1, 1}, {999, 7}, {classes - 1, 5}, {-1, 16}};
    for (const auto& [index, count] : sent) {
        if (index < 0) {
            continue;
        }
        UdpTraffic(netns.name(), static_cast<std::uint16_t>(first_port + index)).send(count);
    }
    const std::string rules = netns.nft("-a list chain inet acctc_many classify_svc");
    const std::uint32_t generation = generation_in(netns);

    for (int reload = 0; reload < 2; ++reload) {
        const auto report = backend->apply(policy, false);
        EXPECT_EQ(report.kept.size(), static_cast<std::size_t>(classes + 1));
        EXPECT_TRUE(report.added.empty());
        EXPECT_TRUE(report.removed.empty());
        for (const auto& reading : report.kept) {
            const auto index = reading.sample.counter == "svc_rest"
                                   ? -1
                                   : std::stoi(reading.sample.counter.substr(5));
            const auto expected = sent.find(index);
            EXPECT_EQ(reading.sample.packets, expected == sent.end() ? 0 : expected->second)
                << reading.sample.counter;
        }
    }
    // Nothing was committed: the rules (and their maps) are the ones loaded first.
    EXPECT_EQ(generation_in(netns), generation);
    EXPECT_EQ(netns.nft("-a list chain inet acctc_many classify_svc"), rules);

    // Counting goes on where it was.
    UdpTraffic(netns.name(), first_port + 999).send(2);
    const auto samples = by_name(read_counters("many", netns.name()));
    ASSERT_EQ(samples.size(), static_cast<std::size_t>(classes + 1));
    for (int i = 0; i < classes; ++i) {
        const auto expected = sent.find(i);
        const std::uint64_t packets =
            (expected == sent.end() ? 0 : expected->second) + (i == 999 ? 2 : 0);
        EXPECT_EQ(samples.at("svc_c" + std::to_string(i)).packets, packets) << i;
    }
    EXPECT_EQ(samples.at("svc_rest").packets, 18U);
}

TEST(CountersOnlyReload, AddsDeclaredCountersAndDeletesUndeclaredOnesInOneTransaction) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    auto policy = classify_ports();
    backend->apply(policy, false);
    UdpTraffic(netns.name(), first_port + 5).send(4);
    // A counter no rule uses, put into the table by hand with a value of its own.
    netns.nft("add counter inet acctc_many stray { packets 11 bytes 1100 }");
    // And one the policy declares that no rule uses yet (as a policy could).
    const std::string extra = "\tcounter svc_extra {\n\t\tcomment \"acctc1 f=3 class=extra "
                              "@many.acct:9\"\n\t}\n";
    policy.definition.insert(policy.definition.find("\tcounter "), extra);
    policy.counters.push_back({"svc_extra", "many.acct:9"});
    const std::uint32_t generation = generation_in(netns);

    const auto report = backend->apply(policy, false);
    EXPECT_EQ(report.added, std::vector<std::string>{"svc_extra"});
    ASSERT_EQ(report.removed.size(), 1U);
    EXPECT_EQ(report.removed[0].sample.counter, "stray");
    EXPECT_EQ(report.removed[0].sample.packets, 11U);
    EXPECT_EQ(report.removed[0].sample.bytes, 1100U);
    // One transaction did both.
    EXPECT_EQ(generation_in(netns), generation + 1);
    EXPECT_EQ(netns.nft("list counters table inet acctc_many").find("stray"), std::string::npos);
    const std::string listed = netns.nft("list counter inet acctc_many svc_extra");
    EXPECT_NE(listed.find("comment \"acctc1 f=3 class=extra @many.acct:9\""), std::string::npos)
        << listed;

    const auto samples = by_name(read_counters("many", netns.name()));
    EXPECT_EQ(samples.at("svc_c5").packets, 4U);
    EXPECT_EQ(samples.at("svc_extra").packets, 0U);
    EXPECT_EQ(samples.count("stray"), 0U);
}

} // namespace
} // namespace acctc::runtime::testing
