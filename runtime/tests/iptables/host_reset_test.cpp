// `split host` on the iptables backends: a reset swaps each host set with a twin holding the
// same hosts at zero (ipset cannot read and zero in one step). UDP flows while 30 resets run;
// everything they reported plus the final reading equals what was sent, packets and bytes, on
// iptables-legacy and iptables-nft, and the host is still listed after every reset.
#include "acctc/compile.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "kernel_fixture.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <iostream>

namespace acctc::runtime::testing {
namespace {

constexpr const char* policy_text = R"(policy hostz
counter h { out; include loopback; udp dport 7003; split host destination }
)";

struct Outcome {
    std::uint64_t sent = 0;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    int nonzero_resets = 0;
    int hostless_reads = 0;
    double seconds = 0;
};

void add(Outcome& outcome, const std::vector<CounterReading>& readings, bool reset) {
    bool listed = false;
    for (const auto& reading : readings) {
        if (reading.sample.counter != "h" ||
            reading.sample.label(Dimension::host) != "198.18.0.1") {
            continue;
        }
        listed = true;
        outcome.packets += reading.sample.packets;
        outcome.bytes += reading.sample.bytes;
        if (reset && reading.sample.packets != 0) {
            ++outcome.nonzero_resets;
        }
    }
    if (!listed) {
        ++outcome.hostless_reads;
    }
}

Outcome run(IptablesVariant variant, int resets) {
    TestNamespace netns;
    CompileOptions options;
    options.target = Target::iptables;
    auto compiled = compile_source("hostz.acct", policy_text, options);
    if (!compiled.output) {
        throw std::runtime_error("test policy does not compile");
    }
    auto backend = make_iptables_backend(netns.name(), variant);
    backend->apply(*compiled.output, false);
    Outcome outcome;
    UdpTraffic traffic(netns.name(), 7003);
    traffic.send(1); // the host is in the set before the first reset
    traffic.start(~std::uint64_t{0}, 60);
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < resets; ++i) {
        add(outcome, backend->counters("hostz", true), true);
    }
    outcome.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    traffic.stop();
    add(outcome, backend->counters("hostz", false), false);
    outcome.sent = traffic.sent();
    backend->remove("hostz");
    return outcome;
}

void expect_exact(IptablesVariant variant, const std::string& name) {
    const Outcome o = run(variant, 30);
    std::cout << name << ": sent " << o.sent << " datagrams; 30 resets in " << o.seconds << " s, "
              << o.nonzero_resets << " saw traffic\n";
    EXPECT_GT(o.sent, 1000U);
    EXPECT_GE(o.nonzero_resets, 20);
    EXPECT_EQ(o.hostless_reads, 0);
    EXPECT_EQ(o.packets, o.sent);
    EXPECT_EQ(o.bytes, o.sent * UdpTraffic::wire_bytes);
}

TEST(IptablesHostReset, ResetsUnderTrafficLoseNothingOnLegacy) {
    expect_exact(IptablesVariant::legacy, "iptables-legacy");
}

TEST(IptablesHostReset, ResetsUnderTrafficLoseNothingOnNft) {
    expect_exact(IptablesVariant::nft, "iptables-nft");
}

} // namespace
} // namespace acctc::runtime::testing
