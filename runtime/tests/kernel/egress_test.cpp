// Leaving traffic counted at a device's egress hook (docs/counting.md, "Leaving fragments"): a
// 3,000-byte datagram over a veth leaves as 3 fragments, 3,068 bytes of IP; reloads keep the
// egress counts, a dropped counter's final value includes them, reset and remove take them.
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/netns.hpp"
#include "acctc/runtime/unified_diff.hpp"
#include "kernel_fixture.hpp"
#include "unique_fd.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <map>
#include <netinet/in.h>
#include <sys/socket.h>

namespace acctc::runtime::testing {
namespace {

using Counts = std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>;

CompiledPolicy compiled(const std::string& text) {
    const auto result = compile_source("egress.acct", text);
    if (!result.output) {
        throw std::runtime_error("test policy does not compile");
    }
    return *result.output;
}

void send_datagram(const std::string& netns) {
    const NetnsScope scope(netns);
    const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    ::inet_pton(AF_INET, "198.18.90.2", &to.sin_addr);
    const std::string payload(3000, 'x');
    ASSERT_EQ(::sendto(fd.get(), payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(payload.size()));
}

Counts counts(Backend& backend, bool reset = false) {
    Counts out;
    for (const auto& reading : backend.counters("egress", reset)) {
        out[reading.sample.counter] = {reading.sample.packets, reading.sample.bytes};
    }
    return out;
}

constexpr const char* first = "policy egress\ninterface wan = wan0\n"
                              "counter udp_out { local out via wan; protocol udp }\n"
                              "counter frag_out { local out via wan; fragment }\n";
constexpr const char* second = "policy egress\ninterface wan = wan0\n"
                               "counter udp_out { local out via wan; protocol udp }\n";

TEST(Egress, FragmentsCountAsOnTheWireThroughReloadsResetAndRemove) {
    TestNamespace ns;
    const std::string n = ns.name();
    shell("ip -n " + n + " link add wan0 type veth peer name far0 && ip -n " + n +
          " addr add 198.18.90.1/24 dev wan0 && ip -n " + n + " link set wan0 up && ip -n " + n +
          " link set far0 up && ip -n " + n +
          " neigh replace 198.18.90.2 lladdr 02:00:00:00:00:02 dev wan0 nud permanent");
    const auto backend = make_backend(BackendKind::nftables, n);
    backend->apply(compiled(first), false);
    EXPECT_NE(ns.nft("list table netdev acctc_egress.egress_wan0").find("acctc-egress l2=14"),
              std::string::npos);
    send_datagram(n);
    const Counts wire{{"udp_out", {3, 3068}}, {"frag_out", {2, 1568}}};
    EXPECT_EQ(counts(*backend), wire);

    backend->apply(compiled(first), false); // a reload keeps them
    EXPECT_EQ(counts(*backend), wire);

    const ApplyReport report = backend->apply(compiled(second), false);
    ASSERT_EQ(report.removed.size(), 1u);
    EXPECT_EQ(report.removed[0].sample.packets, 2u);
    EXPECT_EQ(report.removed[0].sample.bytes, 1568u);
    EXPECT_EQ(ns.nft("list table netdev acctc_egress.egress_wan0").find("frag_out"),
              std::string::npos);
    send_datagram(n);
    EXPECT_EQ(counts(*backend, true), (Counts{{"udp_out", {6, 6136}}}));
    EXPECT_EQ(counts(*backend), (Counts{{"udp_out", {0, 0}}}));

    send_datagram(n);
    const RemoveReport removed = backend->remove("egress");
    ASSERT_EQ(removed.final_counters.size(), 1u);
    EXPECT_EQ(removed.final_counters[0].sample.packets, 3u);
    EXPECT_EQ(ns.nft("list tables"), "");
}

// `acctc diff` compares the egress tables too: what leaves is counted there, not in the inet
// table, so a change of what an egress chain counts is a change of the ruleset.
TEST(Egress, DiffComparesTheEgressTables) {
    TestNamespace ns;
    const std::string n = ns.name();
    shell("ip -n " + n + " link add wan0 type veth peer name far0");
    const auto backend = make_backend(BackendKind::nftables, n);
    backend->apply(compiled(first), false);
    const auto diff = [&](const char* policy) {
        return unified_diff(backend->live_ruleset("egress"),
                            backend->planned_ruleset(compiled(policy)), "live", "planned", 0,
                            without_origin);
    };
    EXPECT_EQ(diff(first), "");
    EXPECT_NE(backend->live_ruleset("egress").find("table netdev acctc_egress.egress_wan0 {"),
              std::string::npos);
    // The fragment counter's rules are only in the egress chain.
    const std::string changed = diff(second);
    EXPECT_NE(changed.find("-\t\tmeta mark & 0x20000000 == 0x00000000 ip frag-off & 8191 != 0 "
                           "counter name \"frag_out\""),
              std::string::npos)
        << changed;
}

} // namespace
} // namespace acctc::runtime::testing
