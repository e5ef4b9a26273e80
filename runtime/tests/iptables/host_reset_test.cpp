// `split host` resets under traffic. On the iptables backends a reset swaps each host set with a
// twin holding the same hosts at zero (ipset cannot read and zero in one step); on nft it is
// one reset dump per set, here over the 8 parts of a set of the default size (docs/language.md).
// UDP flows while 30 resets run; everything they reported plus the final reading equals what
// was sent, packets and bytes, and the host is still listed after every reset.
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "kernel_fixture.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <iostream>
#include <thread>

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

Outcome run(BackendKind kind, int resets) {
    TestNamespace netns;
    CompileOptions options;
    options.target = backend_info(kind).target;
    auto compiled = compile_source("hostz.acct", policy_text, options);
    if (!compiled.output) {
        throw std::runtime_error("test policy does not compile");
    }
    auto backend = make_backend(kind, netns.name());
    backend->apply(*compiled.output, false);
    Outcome outcome;
    UdpTraffic traffic(netns.name(), 7003);
    traffic.send(1); // the host is in the set before the first reset
    traffic.start(~std::uint64_t{0}, 60);
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < resets; ++i) {
        add(outcome, backend->counters("hostz", true), true);
        // nft resets in milliseconds: let datagrams arrive between them.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    outcome.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    traffic.stop();
    add(outcome, backend->counters("hostz", false), false);
    outcome.sent = traffic.sent();
    backend->remove("hostz");
    return outcome;
}

void expect_exact(BackendKind kind) {
    const Outcome o = run(kind, 30);
    std::cout << backend_info(kind).name << ": sent " << o.sent << " datagrams; 30 resets in "
              << o.seconds << " s, " << o.nonzero_resets << " saw traffic\n";
    EXPECT_GT(o.sent, 1000U);
    EXPECT_GE(o.nonzero_resets, 20);
    EXPECT_EQ(o.hostless_reads, 0);
    EXPECT_EQ(o.packets, o.sent);
    EXPECT_EQ(o.bytes, o.sent * UdpTraffic::wire_bytes);
}

TEST(IptablesHostReset, ResetsUnderTrafficLoseNothingOnLegacy) {
    expect_exact(BackendKind::iptables_legacy);
}

TEST(IptablesHostReset, ResetsUnderTrafficLoseNothingOnNft) {
    expect_exact(BackendKind::iptables_nft);
}

TEST(NftHostReset, ResetsUnderTrafficLoseNothingAcrossParts) {
    expect_exact(BackendKind::nftables);
}

} // namespace
} // namespace acctc::runtime::testing
