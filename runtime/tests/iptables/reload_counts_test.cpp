// Removed counters' final values on the iptables backends are exact under traffic: UDP flows
// while the policy is reloaded 20 times, each reload renaming the counter of the flow (the old
// name removed, the new one added with the same match). What every reload reported as the
// removed counter's final value, plus the last counter's reading, must equal what was sent;
// the counter kept through every reload must equal it too. Before, the removed counters were
// read before the commit, and what they counted until it was missing (hundreds of datagrams
// per run), on iptables-legacy and iptables-nft alike. The same for a `split host` counter
// renamed with it (its ipset replaced): the removed set's hosts are reported with their final
// counts (before, not at all: what they counted since the last save was lost to the totals).
#include "acctc/compile.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "kernel_fixture.hpp"

#include <gtest/gtest.h>
#include <iostream>

namespace acctc::runtime::testing {
namespace {

constexpr std::uint16_t port = 7011;

CompiledPolicy compiled(const std::string& flow_counter) {
    CompileOptions options;
    options.target = Target::iptables;
    const std::string text = "policy renames\n"
                             "counter kept { local in; include loopback; udp dport 7011 }\n"
                             "counter " +
                             flow_counter + " { local in; include loopback; udp dport 7011 }\n" +
                             "counter " + flow_counter +
                             "_hosts { local in; include loopback; udp dport 7011; split host "
                             "remote within 198.18.0.0/24 }\n";
    auto result = compile_source("renames.acct", text, options);
    if (!result.output) {
        throw std::runtime_error("test policy does not compile");
    }
    return *result.output;
}

std::uint64_t packets_of(const std::vector<CounterReading>& readings, const std::string& name) {
    std::uint64_t packets = 0;
    for (const auto& reading : readings) {
        if (reading.sample.counter == name) {
            packets += reading.sample.packets;
        }
    }
    return packets;
}

void expect_exact(IptablesVariant variant, const std::string& name) {
    TestNamespace netns;
    auto backend = make_iptables_backend(netns.name(), variant);
    const CompiledPolicy first = compiled("flow_a");
    const CompiledPolicy second = compiled("flow_b");
    backend->apply(first, false);

    UdpTraffic traffic(netns.name(), port);
    traffic.start(~std::uint64_t{0}, 120);
    std::uint64_t removed = 0;
    std::uint64_t removed_hosts = 0;
    int reloads_under_traffic = 0;
    for (int i = 0; i < 20; ++i) {
        const std::uint64_t before = traffic.sent();
        const auto report = backend->apply(i % 2 == 0 ? second : first, false);
        const std::string gone = i % 2 == 0 ? "flow_a" : "flow_b";
        removed += packets_of(report.removed, gone);
        removed_hosts += packets_of(report.removed, gone + "_hosts");
        if (traffic.sent() > before) {
            ++reloads_under_traffic;
        }
    }
    traffic.stop();
    const auto now = backend->counters("renames", false);
    const std::uint64_t sent = traffic.sent();
    std::cout << name << ": sent " << sent << " datagrams through 20 reloads, "
              << reloads_under_traffic << " under traffic\n";
    // Not vacuous: datagrams flowed while the reloads committed.
    EXPECT_GT(sent, 1000U);
    EXPECT_GE(reloads_under_traffic, 15);
    EXPECT_EQ(packets_of(now, "kept"), sent);
    // 20 reloads end on `first`: flow_a is the current counter.
    EXPECT_EQ(removed + packets_of(now, "flow_a"), sent);
    EXPECT_EQ(removed_hosts + packets_of(now, "flow_a_hosts"), sent);
    backend->remove("renames");
}

TEST(IptablesReloadCounts, RemovedCountersFinalValuesExactLegacy) {
    expect_exact(IptablesVariant::legacy, "iptables-legacy");
}

TEST(IptablesReloadCounts, RemovedCountersFinalValuesExactNft) {
    expect_exact(IptablesVariant::nft, "iptables-nft");
}

} // namespace
} // namespace acctc::runtime::testing
