// Counters at scale: 10,000 and 100,000 named counters behind one object map, loaded, reloaded,
// read and reset. Prints timings for docs/runtime.md; asserts only on results.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"

#include <chrono>
#include <cstdio>
#include <gtest/gtest.h>

namespace acctc::runtime::testing {
namespace {

// Counter c<i> counts UDP packets to 198.18.0.0 + i, through one map lookup per packet.
CompiledPolicy many_counters(int count) {
    std::string definition = "table inet acctc_scale {\n";
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) {
        names.push_back("c" + std::to_string(i));
        definition += "\tcounter c" + std::to_string(i) +
                      " { comment \"scale.acct:" + std::to_string(i + 2) + "\" }\n";
    }
    definition += "\tmap by_address {\n\t\ttype ipv4_addr : counter\n\t\telements = { ";
    for (int i = 0; i < count; ++i) {
        const std::uint32_t address = 0xC6120000U + static_cast<std::uint32_t>(i);
        definition += (i == 0 ? "" : ", ") + std::to_string(address >> 24) + "." +
                      std::to_string((address >> 16) & 255) + "." +
                      std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255) +
                      " : c" + std::to_string(i);
    }
    definition += " }\n\t}\n\tchain output {\n"
                  "\t\ttype filter hook output priority filter; policy accept;\n"
                  "\t\tmeta l4proto udp counter name ip daddr map @by_address comment "
                  "\"scale.acct:1\"\n\t}\n}\n";
    return make_policy("scale", definition, names);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void measure(int count) {
    TestNamespace netns;
    const auto policy = many_counters(count);
    auto backend = make_backend(BackendKind::nftables, netns.name());
    auto start = std::chrono::steady_clock::now();
    backend->apply(policy, false);
    const double load = seconds_since(start);
    UdpTraffic(netns.name(), 9).send(5); // to 198.18.0.1: counter c1
    start = std::chrono::steady_clock::now();
    const auto report = backend->apply(policy, false);
    const double reload = seconds_since(start);
    EXPECT_EQ(report.kept.size(), static_cast<std::size_t>(count));
    start = std::chrono::steady_clock::now();
    const auto samples = read_counters("scale", netns.name());
    const double read = seconds_since(start);
    ASSERT_EQ(samples.size(), static_cast<std::size_t>(count));
    start = std::chrono::steady_clock::now();
    const auto reset = read_counters("scale", netns.name(), true);
    const double zero = seconds_since(start);
    std::uint64_t total = 0;
    for (const auto& sample : reset) {
        total += sample.packets;
        if (sample.counter == "c1") {
            EXPECT_EQ(sample.packets, 5U);
        }
    }
    EXPECT_EQ(total, 5U);
    EXPECT_EQ(read_counters("scale", netns.name())[0].packets, 0U);
    std::printf("[ measure  ] %d counters: load %.3f s, reload %.3f s, read %.1f ms, "
                "read+reset %.1f ms\n",
                count, load, reload, read * 1e3, zero * 1e3);
}

TEST(Scale, TenThousandCounters) {
    measure(10'000);
}
TEST(Scale, HundredThousandCounters) {
    measure(100'000);
}

} // namespace
} // namespace acctc::runtime::testing
