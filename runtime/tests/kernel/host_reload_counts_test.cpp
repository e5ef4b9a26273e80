// A `split host` counter renamed by a reload on nft: its old host set stays in the table, no
// rule counting in it, until the cleanup; apply reports its hosts' final counts as removed
// counters, so the period totals book what they counted since the last save. UDP flows while
// the policy is reloaded 20 times, each reload renaming the counter; what the reloads reported
// for the old names plus the last reading must equal what was sent. Before, the old sets were
// deleted unread (hundreds of datagrams per run missing from the totals).
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "kernel_fixture.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime::testing {
namespace {

CompiledPolicy renamed_hosts_policy(const std::string& name) {
    const std::string text = "policy renames\n"
                             "counter kept { local in; include loopback; udp dport 7012 }\n"
                             "counter " +
                             name +
                             " { local in; include loopback; udp dport 7012; split host remote "
                             "within 198.18.0.0/24 }\n";
    auto result = compile_source("renames.acct", text);
    if (!result.output) {
        throw std::runtime_error("test policy does not compile");
    }
    return *result.output;
}

std::uint64_t packets_named(const std::vector<CounterReading>& readings, const std::string& name) {
    std::uint64_t packets = 0;
    for (const auto& reading : readings) {
        if (reading.sample.counter == name) {
            EXPECT_EQ(reading.sample.label(Dimension::host), "198.18.0.1");
            packets += reading.sample.packets;
        }
    }
    return packets;
}

TEST(NftHostReloadCounts, ARenamedHostCountersHostsAreReportedWithTheirFinalCounts) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const CompiledPolicy first = renamed_hosts_policy("flow_a");
    const CompiledPolicy second = renamed_hosts_policy("flow_b");
    backend->apply(first, false);
    UdpTraffic traffic(netns.name(), 7012);
    traffic.start(~std::uint64_t{0}, 120);
    std::uint64_t removed = 0;
    int under_traffic = 0;
    for (int i = 0; i < 20; ++i) {
        const std::uint64_t before = traffic.sent();
        const auto report = backend->apply(i % 2 == 0 ? second : first, false);
        removed += packets_named(report.removed, i % 2 == 0 ? "flow_a" : "flow_b");
        under_traffic += traffic.sent() > before ? 1 : 0;
    }
    traffic.stop();
    const auto now = backend->counters("renames", false);
    const std::uint64_t sent = traffic.sent();
    EXPECT_GT(sent, 1000U);
    EXPECT_GE(under_traffic, 15);
    std::uint64_t kept = 0;
    for (const auto& reading : now) {
        kept += reading.sample.counter == "kept" ? reading.sample.packets : 0;
    }
    EXPECT_EQ(kept, sent);
    // 20 reloads end on `first`.
    EXPECT_EQ(removed + packets_named(now, "flow_a"), sent);
    backend->remove("renames");
}

} // namespace
} // namespace acctc::runtime::testing
