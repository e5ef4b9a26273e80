// Reloads keep the sets a policy declares again, with the elements the packet path put in them
// (skype's peers): re-added in place, never deleted and re-created. Changed sets are replaced,
// removed ones deleted after the commit.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/unified_diff.hpp"
#include "kernel_fixture.hpp"
#include "set_shape.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <regex>

namespace acctc::runtime::testing {
namespace {

struct PeersOptions {
    std::string v4_timeout = "1h";
    bool v6 = true;
    bool extra = false; // one more counter and rule, and every origin line moved
    std::string ports = "9, 10";
};

// Shaped like the compiler's output for `from peers of skype` (specs/examples/
// skype_supernode.nft): dynamic peer sets that the output path fills with `update @set
// { ip daddr }` (on UDP port 7 here) and the input path looks up, plus a set with constant
// elements.
CompiledPolicy peers_policy(const PeersOptions& options = {}) {
    const int shift = options.extra ? 100 : 0;
    const auto origin = [&](int line) {
        return "comment \"s.acct:" + std::to_string(line + shift) + "\"";
    };
    std::string text = "table inet acctc_s {\n";
    text += "\tcounter total {\n\t\t" + origin(2) + "\n\t}\n";
    text += "\tcounter peer_in {\n\t\t" + origin(3) + "\n\t}\n";
    if (options.extra) {
        text += "\tcounter extra {\n\t\t" + origin(4) + "\n\t}\n";
    }
    text += "\n\tset peers_s_v4 {\n\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags "
            "dynamic,timeout\n\t\ttimeout " +
            options.v4_timeout + "\n\t\t" + origin(5) + "\n\t}\n";
    if (options.v6) {
        text += "\n\tset peers_s_v6 {\n\t\ttype ipv6_addr\n\t\tsize 65535\n\t\tflags "
                "dynamic,timeout\n\t\ttimeout 1h\n\t\t" +
                origin(5) + "\n\t}\n";
    }
    text += "\tset ports { type inet_service; elements = { " + options.ports + " } }\n";
    text += "\n\tchain input {\n\t\ttype filter hook input priority filter - 10; policy accept;\n";
    text +=
        "\t\tip saddr @peers_s_v4 udp dport @ports counter name \"peer_in\" " + origin(6) + "\n";
    if (options.v6) {
        text += "\t\tip6 saddr @peers_s_v6 udp dport @ports counter name \"peer_in\" " + origin(6) +
                "\n";
    }
    text += "\t}\n";
    text +=
        "\n\tchain output {\n\t\ttype filter hook output priority filter - 10; policy accept;\n";
    text += "\t\tip daddr 198.18.0.1 udp dport 9 counter name \"total\" " + origin(7) + "\n";
    text +=
        "\t\tip daddr 198.18.0.1 udp dport 7 update @peers_s_v4 { ip daddr } " + origin(8) + "\n";
    if (options.extra) {
        text += "\t\tip daddr 198.18.0.1 udp dport 9 counter name \"extra\" " + origin(9) + "\n";
    }
    text += "\t}\n}\n";
    std::vector<std::string> counters{"total", "peer_in"};
    if (options.extra) {
        counters.push_back("extra");
    }
    return make_policy("s", text, counters);
}

// The time left on an element of a set, in milliseconds (-1: not in the set).
std::int64_t expires_ms(const TestNamespace& netns, const std::string& set,
                        const std::string& element) {
    const std::string listing = netns.nft("list set inet acctc_s " + set);
    const std::regex entry(std::regex_replace(element, std::regex(R"([.])"), R"(\.)") +
                           R"( timeout \S+ expires (\w+))");
    std::smatch match;
    if (!std::regex_search(listing, match, entry)) {
        return -1;
    }
    return parse_nft_time_ms(match[1].str());
}

bool listed(const TestNamespace& netns, const std::string& set, const std::string& element) {
    const std::string listing = netns.nft("list set inet acctc_s " + set);
    return std::regex_search(listing, std::regex("[{ ,]" + element + "[ ,}\n]"));
}

TEST(SetReload, KeptSetsKeepElementsAndTheirRemainingTimeouts) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(peers_policy(), false);
    // A peer the packet path learned (UDP to port 7 runs `update @peers_s_v4 { ip daddr }`),
    // and two added by hand with a timeout of their own.
    UdpTraffic(netns.name(), 7).send(1);
    netns.nft("add element inet acctc_s peers_s_v4 { 198.18.0.77 timeout 10m }");
    netns.nft("add element inet acctc_s peers_s_v6 { 2001:db8::7 timeout 10m }");
    ASSERT_TRUE(listed(netns, "peers_s_v4", "198.18.0.1"));
    const std::int64_t v4_before = expires_ms(netns, "peers_s_v4", "198.18.0.77");
    ASSERT_GT(v4_before, 0);

    PeersOptions changed;
    changed.extra = true;
    changed.ports = "9";
    const auto report = backend->apply(peers_policy(changed), false);
    EXPECT_EQ(report.sets_kept, (std::vector<std::string>{"peers_s_v4", "peers_s_v6", "ports"}));
    EXPECT_TRUE(report.sets_replaced.empty());
    EXPECT_TRUE(report.sets_removed.empty());
    EXPECT_TRUE(set_change_notes(report).empty());

    EXPECT_TRUE(listed(netns, "peers_s_v4", "198.18.0.1"));
    const std::int64_t v4_after = expires_ms(netns, "peers_s_v4", "198.18.0.77");
    const std::int64_t v6_after = expires_ms(netns, "peers_s_v6", "2001:db8::7");
    // The time left kept running down; it was not reset to 10m (or to the set's 1h).
    EXPECT_GT(v4_after, 0);
    EXPECT_LE(v4_after, v4_before);
    EXPECT_GT(v4_after, v4_before - 5000);
    EXPECT_GT(v6_after, 0);
    EXPECT_LT(v6_after, 600'000);
    // A set with constant elements is refilled from the definition: 10 went away with it.
    EXPECT_TRUE(listed(netns, "ports", "9"));
    EXPECT_FALSE(listed(netns, "ports", "10"));

    // Pings from a known peer still count without the peer talking again.
    UdpTraffic(netns.name(), 9).send(3);
    EXPECT_EQ(packets_of(read_counters("s", netns.name()), "peer_in"), 3U);
    // The kept set keeps the comment it was created with, like a counter; diff ignores it.
    EXPECT_NE(netns.nft("list set inet acctc_s peers_s_v4").find("comment \"s.acct:5\""),
              std::string::npos);
    // Chains whose rules differ only in origins keep their rules (and the comments they were
    // added with): equal once origins are left out, as `acctc diff` compares.
    EXPECT_EQ(unified_diff(backend->live_ruleset("s"),
                           backend->planned_ruleset(peers_policy(changed)), "live", "planned", 3,
                           without_origin),
              "");

    // A hook priority change re-creates the base chains; the sets are still kept.
    auto moved = peers_policy(changed);
    const std::string from = "hook input priority filter - 10;";
    moved.definition.replace(moved.definition.find(from), from.size(),
                             "hook input priority filter + 5;");
    const auto rehooked = backend->apply(moved, false);
    EXPECT_TRUE(rehooked.chains_recreated);
    EXPECT_EQ(rehooked.sets_kept.size(), 3U);
    EXPECT_TRUE(listed(netns, "peers_s_v4", "198.18.0.77"));
    UdpTraffic(netns.name(), 9).send(2);
    EXPECT_EQ(packets_of(read_counters("s", netns.name()), "peer_in"), 5U);
}

TEST(SetReload, ChangedTimeoutReplacesTheSetRemovedSetIsDeleted) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(peers_policy(), false);
    netns.nft("add element inet acctc_s peers_s_v4 { 198.18.0.77 timeout 10m }");
    netns.nft("add element inet acctc_s peers_s_v6 { 2001:db8::7 timeout 10m }");

    PeersOptions longer;
    longer.v4_timeout = "2h";
    const auto planned = backend->apply(peers_policy(longer), true);
    ASSERT_EQ(planned.sets_replaced.size(), 1U);
    EXPECT_EQ(planned.sets_replaced[0].name, "peers_s_v4");
    EXPECT_EQ(planned.sets_replaced[0].change, "timeout 1h -> 2h");
    EXPECT_EQ(set_change_notes(planned),
              std::vector<std::string>{"note: set peers_s_v4 would be re-created (timeout 1h "
                                       "-> 2h); the elements it held would be gone"});
    EXPECT_TRUE(listed(netns, "peers_s_v4", "198.18.0.77")); // a dry run changes nothing

    const auto report = backend->apply(peers_policy(longer), false);
    ASSERT_EQ(report.sets_replaced.size(), 1U);
    EXPECT_EQ(report.sets_replaced[0].change, "timeout 1h -> 2h");
    EXPECT_EQ(report.sets_kept, (std::vector<std::string>{"peers_s_v6", "ports"}));
    EXPECT_EQ(set_change_notes(report),
              std::vector<std::string>{"note: set peers_s_v4 was re-created (timeout 1h -> "
                                       "2h); the elements it held are gone"});
    const std::string v4 = netns.nft("list set inet acctc_s peers_s_v4");
    EXPECT_NE(v4.find("timeout 2h"), std::string::npos) << v4;
    EXPECT_FALSE(listed(netns, "peers_s_v4", "198.18.0.77"));
    EXPECT_TRUE(listed(netns, "peers_s_v6", "2001:db8::7"));

    // Flags changed (no longer dynamic): replaced too, as the kernel could not keep it.
    auto constant = peers_policy(longer);
    const std::string from = "flags dynamic,timeout\n\t\ttimeout 2h";
    constant.definition.replace(constant.definition.find(from), from.size(), "flags timeout");
    constant.definition.replace(constant.definition.find("\t\tip daddr 198.18.0.1 udp dport 7"),
                                std::string("\t\tip daddr 198.18.0.1 udp dport 7 update "
                                            "@peers_s_v4 { ip daddr } comment \"s.acct:8\"\n")
                                    .size(),
                                "");
    const auto flags = backend->apply(constant, false);
    ASSERT_EQ(flags.sets_replaced.size(), 1U) << constant.definition;
    EXPECT_EQ(flags.sets_replaced[0].change, "flags dynamic,timeout -> timeout, timeout 2h -> "
                                             "no timeout");

    // Without the v6 set: deleted once the commit is through.
    PeersOptions without_v6;
    without_v6.v6 = false;
    const auto removed = backend->apply(peers_policy(without_v6), false);
    EXPECT_EQ(removed.sets_removed, std::vector<std::string>{"peers_s_v6"});
    EXPECT_EQ(netns.nft("list sets table inet acctc_s").find("peers_s_v6"), std::string::npos);
    std::string err;
    EXPECT_NE(
        shell_status("ip netns exec " + netns.name() + " nft list set inet acctc_s peers_s_v6",
                     nullptr, &err),
        0);
}

TEST(SetReload, ThirtyReloadsNeverMissAPeer) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(peers_policy(), false);
    // A known peer, learned once: nothing in the traffic below adds it again.
    netns.nft("add element inet acctc_s peers_s_v4 { 198.18.0.1 timeout 1h }");
    UdpTraffic traffic(netns.name(), 9);
    traffic.start(20'000'000, 60.0);

    PeersOptions other;
    other.extra = true;
    const auto started = std::chrono::steady_clock::now();
    for (int reload = 0; reload < 30; ++reload) {
        const auto report =
            backend->apply(reload % 2 == 0 ? peers_policy(other) : peers_policy(), false);
        ASSERT_EQ(report.sets_kept.size(), 3U);
        ASSERT_TRUE(report.sets_replaced.empty());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    traffic.stop();

    const std::uint64_t sent = traffic.sent();
    const auto samples = read_counters("s", netns.name());
    EXPECT_GT(sent, 0U);
    EXPECT_EQ(packets_of(samples, "total"), sent);
    // Every datagram came from the peer: looked up in the set on input, never missed.
    EXPECT_EQ(packets_of(samples, "peer_in"), sent);
    std::printf("[ measure  ] 30 reloads in %.3f s under %llu packets, every peer lookup hit\n",
                seconds, static_cast<unsigned long long>(sent));
}

} // namespace
} // namespace acctc::runtime::testing
