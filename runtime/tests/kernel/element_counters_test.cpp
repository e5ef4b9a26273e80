// A large classification (docs/language.md, "Large classifications") counts its classes in the
// elements of counting sets, one set or small sets found by a jhash dispatch the compiler
// partitions as the kernel hashes: every class must count exactly what was sent to its keys, a
// class of several keys the sum of its elements, a reset under traffic must lose nothing, and a
// reload must keep every class's count (element_carry_test.cpp: the reloads that move keys, under
// traffic).
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"

#include <gtest/gtest.h>
#include <map>

namespace acctc::runtime::testing {
namespace {

constexpr int classes = 5000;
constexpr std::uint16_t first_port = 1000;
constexpr std::uint16_t second_port = 30000; // class c7's other key: 30007

// The two layouts of the counting sets: parts found by the jhash dispatch (the compiler's
// partition against the kernel's hash), and one set without a dispatch (5,000 keys are one set
// by default: CompileOptions::element_one_set_keys).
enum class Layout { parts, one_set };

class ElementCounters : public ::testing::TestWithParam<Layout> {};

// `classes` UDP port classes counted on the way out; c7 (or c<moved>) has a second port, 30007;
// `extra` adds classes.
CompiledPolicy classify_ports(const std::string& extra = "", int moved = -1,
                              const std::string& header = "") {
    std::string text = header + "policy elements\nclassify svc local out include loopback {\n";
    for (int i = 0; i < classes; ++i) {
        text += "    c" + std::to_string(i) + ": udp dport " + std::to_string(first_port + i);
        if (i == (moved < 0 ? 7 : moved)) {
            text += ", " + std::to_string(second_port + 7);
        }
        text += "\n";
    }
    text += extra + "    otherwise: rest\n}\n";
    CompileOptions options;
    if (ElementCounters::GetParam() == Layout::parts) {
        options.element_one_set_keys = 0;
    }
    auto result = compile_source("elements.acct", text, options);
    if (!result.output) {
        ADD_FAILURE() << "the policy does not compile";
        return {};
    }
    return std::move(*result.output);
}

std::map<std::string, CounterSample> read(const TestNamespace& netns, bool reset = false) {
    std::map<std::string, CounterSample> out;
    for (const auto& sample : read_counters("elements", netns.name(), reset)) {
        EXPECT_EQ(out.count(sample.counter), 0U) << sample.counter << " read twice";
        out[sample.counter] = sample;
    }
    return out;
}

std::uint16_t port_of(int index) {
    return static_cast<std::uint16_t>(first_port + index);
}

TEST_P(ElementCounters, EveryClassCountsExactlyItsKeysAndAClassOfSeveralKeysTheirSum) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto policy = classify_ports();
    // The classes are elements, `rest` (otherwise) a counter object.
    ASSERT_EQ(policy.element_counters.size(), static_cast<std::size_t>(classes));
    ASSERT_EQ(policy.counters.size(), 1U);
    if (GetParam() == Layout::parts) {
        ASSERT_GE(policy.element_sets.size(), 16U);
    } else {
        ASSERT_EQ(policy.element_sets.size(), 1U);
        EXPECT_EQ(policy.definition.find("jhash"), std::string::npos);
    }
    backend->apply(policy, false);

    std::map<int, std::uint64_t> sent{{0, 3}, {1, 1}, {2500, 7}, {classes - 1, 5}, {4001, 2}};
    for (int i = 100; i < 140; ++i) { // many parts
        sent[i] = 1 + i % 3;
    }
    std::uint64_t total = 0;
    for (const auto& [index, count] : sent) {
        UdpTraffic(netns.name(), port_of(index)).send(count);
        total += count;
    }
    UdpTraffic(netns.name(), port_of(7)).send(2);
    UdpTraffic(netns.name(), second_port + 7).send(4);
    total += 6;
    sent[7] = 6;

    const auto samples = read(netns);
    ASSERT_EQ(samples.size(), static_cast<std::size_t>(classes + 1));
    for (int i = 0; i < classes; ++i) {
        const auto expected = sent.find(i);
        const std::uint64_t packets = expected == sent.end() ? 0 : expected->second;
        const auto& sample = samples.at("svc_c" + std::to_string(i));
        EXPECT_EQ(sample.packets, packets) << i;
        EXPECT_EQ(sample.bytes, packets * UdpTraffic::wire_bytes) << i;
    }
    // Each datagram to a closed port brings an ICMP error back over loopback: `otherwise`.
    EXPECT_EQ(samples.at("svc_rest").packets, total);
    // Labels and origins as a counter object's would be.
    const auto readings = CounterSource(netns.name()).read("elements", false);
    bool found = false;
    for (const auto& reading : readings) {
        if (reading.sample.counter == "svc_c7") {
            found = true;
            EXPECT_EQ(reading.origin(), "elements.acct:10");
            ASSERT_EQ(reading.sample.labels().size(), 1U);
            EXPECT_EQ(reading.sample.labels()[0].value, "c7");
            EXPECT_EQ(reading.sample.family(), "svc");
        }
    }
    EXPECT_TRUE(found);
}

TEST_P(ElementCounters, AResetUnderTrafficLosesNothing) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classify_ports(), false);
    UdpTraffic one(netns.name(), port_of(3000));
    UdpTraffic other(netns.name(), second_port + 7);
    one.start(400000, 3.0);
    other.start(400000, 3.0);
    std::uint64_t c3000 = 0;
    std::uint64_t c7 = 0;
    for (int i = 0; i < 30; ++i) {
        const auto samples = read(netns, true);
        c3000 += samples.at("svc_c3000").packets;
        c7 += samples.at("svc_c7").packets;
    }
    one.stop();
    other.stop();
    const auto last = read(netns, true);
    c3000 += last.at("svc_c3000").packets;
    c7 += last.at("svc_c7").packets;
    EXPECT_GT(one.sent(), 0U);
    EXPECT_EQ(c3000, one.sent());
    EXPECT_EQ(c7, other.sent());
    EXPECT_EQ(read(netns).at("svc_c3000").packets, 0U);
}

TEST_P(ElementCounters, AReloadKeepsTheCountOfEveryKeyThatStays) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const auto policy = classify_ports();
    backend->apply(policy, false);
    UdpTraffic(netns.name(), port_of(5)).send(4);
    UdpTraffic(netns.name(), port_of(7)).send(1);
    UdpTraffic(netns.name(), second_port + 7).send(3);

    // The same policy again, while packets flow to c4321: nothing lost or counted twice.
    UdpTraffic flowing(netns.name(), port_of(4321));
    flowing.start(400000, 2.0);
    for (int reload = 0; reload < 3; ++reload) {
        backend->apply(policy, false);
    }
    // A changed policy: a new class, and 30007 moves from c7 to c8. Every other key stays.
    backend->apply(classify_ports("    added: udp dport 50000\n", 8), false);
    flowing.stop();
    UdpTraffic(netns.name(), port_of(5)).send(1);
    UdpTraffic(netns.name(), second_port + 7).send(2);
    UdpTraffic(netns.name(), 50000).send(1);

    const auto samples = read(netns);
    EXPECT_EQ(samples.at("svc_c5").packets, 5U);
    EXPECT_EQ(samples.at("svc_c4321").packets, flowing.sent());
    // c7 keeps everything it counted (what 30007 counted for it is its carry, docs/runtime.md),
    // c8 counts 30007 from now.
    EXPECT_EQ(samples.at("svc_c7").packets, 4U);
    EXPECT_EQ(samples.at("svc_c8").packets, 2U);
    EXPECT_EQ(samples.at("svc_added").packets, 1U);
    // Every line one down: the kept elements keep their comments, ORIGIN follows the policy.
    backend->apply(classify_ports("    added: udp dport 50000\n", 8, "# moved\n"), false);
    bool seen = false;
    for (const auto& reading : CounterSource(netns.name()).read("elements", false)) {
        if (reading.sample.counter == "svc_c7") {
            seen = true;
            EXPECT_EQ(reading.origin(), "elements.acct:11");
            EXPECT_EQ(reading.sample.packets, 4U);
        }
    }
    EXPECT_TRUE(seen);
    // The key moved is in c8's part only: no element left behind counts for c7.
    const std::string sets = netns.nft("list table inet acctc_elements");
    EXPECT_EQ(sets.find("30007 counter packets 0 bytes 0 comment \"svc_c7 "), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Layouts, ElementCounters,
                         ::testing::Values(Layout::parts, Layout::one_set),
                         [](const ::testing::TestParamInfo<Layout>& layout) {
                             return layout.param == Layout::parts ? "Parts" : "OneSet";
                         });

} // namespace
} // namespace acctc::runtime::testing
