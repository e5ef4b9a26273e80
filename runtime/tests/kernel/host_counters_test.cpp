// `split host` in the kernel: every packet lands in exactly one host's element counter or in the
// overflow counter once the set is full; `counters` reads each host through netlink with a host
// label; a reset reads and zeroes atomically; a reload keeps every host's counts. The same on
// nft (dynamic sets) and on both iptables variants (ipsets with counters).
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"

#include <algorithm>
#include <gtest/gtest.h>

namespace acctc::runtime::testing {
namespace {

CompiledPolicy compile_hosts(BackendKind kind, const std::string& extra = {}) {
    const std::string text = "policy hosts\n"
                             "counter h { out; include loopback; udp dport 9; "
                             "split host destination size 2 }\n" +
                             extra;
    CompileOptions options;
    options.target = backend_info(kind).target;
    auto result = compile_source("hosts.acct", text, options);
    if (!result.output) {
        ADD_FAILURE() << "the policy does not compile";
        return {};
    }
    return std::move(*result.output);
}

// `count` one-datagram writes (payload "x\n": 30 bytes at layer 3) to ADDRESS port 9.
void send_to(const TestNamespace& netns, const std::string& address, int count) {
    for (int i = 0; i < count; ++i) {
        shell("ip netns exec " + netns.name() + " bash -c 'echo x > /dev/udp/" + address + "/9'");
    }
}

struct Seen {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    bool found = false;
};

Seen host(const std::vector<CounterSample>& samples, const std::string& counter,
          const std::string& address) {
    for (const auto& s : samples) {
        if (s.counter == counter && s.label(Dimension::host) == address) {
            EXPECT_EQ(s.family(), counter.substr(0, 1));
            return {s.packets, s.bytes, true};
        }
    }
    return {};
}

class HostCounters : public ::testing::TestWithParam<BackendKind> {};

TEST_P(HostCounters, EveryPacketInOneHostOrTheOverflowAndKeptOverReloads) {
    const BackendKind kind = GetParam();
    TestNamespace netns;
    for (const char* address : {"198.18.0.2/32", "198.18.0.3/32"}) {
        shell("ip -n " + netns.name() + " addr add " + address + " dev lo");
    }
    auto backend = make_backend(kind, netns.name());
    backend->apply(compile_hosts(kind), false);
    auto read_counters = [&](const std::string& policy, const std::string& in, bool reset = false) {
        return runtime::read_counters(policy, in, reset, kind);
    };
    send_to(netns, "198.18.0.1", 3);
    send_to(netns, "198.18.0.2", 2);
    send_to(netns, "198.18.0.3", 4); // the set holds 2: all of these overflow
    auto samples = read_counters("hosts", netns.name());
    const Seen first = host(samples, "h", "198.18.0.1");
    EXPECT_TRUE(first.found);
    EXPECT_EQ(first.packets, 3U); // the first packet of a host counts too
    EXPECT_EQ(first.bytes, 90U);
    EXPECT_EQ(host(samples, "h", "198.18.0.2").packets, 2U);
    EXPECT_FALSE(host(samples, "h", "198.18.0.3").found);
    EXPECT_EQ(packets_of(samples, "h_overflow"), 4U);
    for (const auto& s : samples) {
        if (s.counter == "h_overflow") {
            EXPECT_EQ(s.label(Dimension::host), "overflow");
        }
    }

    // A reload with another counter keeps the set and its hosts' counts.
    const auto report =
        backend->apply(compile_hosts(kind, "counter other { in; udp dport 10 }\n"), false);
    if (kind == BackendKind::nftables) {
        EXPECT_EQ(report.sets_kept, (std::vector<std::string>{"h_hosts_v4", "h_hosts_v6"}));
    }
    send_to(netns, "198.18.0.1", 1);
    samples = read_counters("hosts", netns.name());
    EXPECT_EQ(host(samples, "h", "198.18.0.1").packets, 4U);
    EXPECT_EQ(host(samples, "h", "198.18.0.2").packets, 2U);

    // Reset: the values read are zeroed in the same step; the hosts stay in the set.
    samples = read_counters("hosts", netns.name(), true);
    EXPECT_EQ(host(samples, "h", "198.18.0.1").packets, 4U);
    send_to(netns, "198.18.0.2", 1);
    samples = read_counters("hosts", netns.name());
    EXPECT_EQ(host(samples, "h", "198.18.0.1").packets, 0U);
    EXPECT_TRUE(host(samples, "h", "198.18.0.1").found);
    EXPECT_EQ(host(samples, "h", "198.18.0.2").packets, 1U);
    EXPECT_EQ(packets_of(samples, "h_overflow"), 0U);

    // Removing reports every host's final count.
    const auto removed = backend->remove("hosts");
    EXPECT_EQ(host(samples_of(removed.final_counters), "h", "198.18.0.2").packets, 1U);
}

// A prefix split keys each element by the masked address: two hosts of one /24 in one element
// (nft: `ip daddr & 255.255.255.0`; iptables: an ipset with netmask 24), IPv6 per /64.
TEST_P(HostCounters, APrefixSplitCountsPerNetwork) {
    const BackendKind kind = GetParam();
    TestNamespace netns;
    shell("ip -n " + netns.name() + " addr add 198.18.0.2/32 dev lo");
    shell("ip -n " + netns.name() + " addr add 198.18.1.9/32 dev lo");
    shell("ip -n " + netns.name() + " addr add 2001:db8:0:1::5/128 dev lo nodad");
    shell("ip -n " + netns.name() + " addr add 2001:db8:0:1::6/128 dev lo nodad");
    CompileOptions options;
    options.target = backend_info(kind).target;
    auto compiled = compile_source("nets.acct",
                                   "policy nets\n"
                                   "counter n { out; include loopback; udp dport 9; "
                                   "split host destination /24 /64 }\n",
                                   options);
    ASSERT_TRUE(compiled.output);
    auto backend = make_backend(kind, netns.name());
    backend->apply(*compiled.output, false);
    send_to(netns, "198.18.0.1", 2);
    send_to(netns, "198.18.0.2", 3);
    send_to(netns, "198.18.1.9", 1);
    send_to(netns, "2001:db8:0:1::5", 1);
    send_to(netns, "2001:db8:0:1::6", 2);
    const auto samples = runtime::read_counters("nets", netns.name(), false, kind);
    EXPECT_EQ(host(samples, "n", "198.18.0.0").packets, 5U);
    EXPECT_EQ(host(samples, "n", "198.18.1.0").packets, 1U);
    EXPECT_EQ(host(samples, "n", "2001:db8:0:1::").packets, 3U);
    EXPECT_EQ(host(samples, "n", "2001:db8:0:1::").bytes, 3U * 50);
    EXPECT_EQ(packets_of(samples, "n_overflow"), 0U);
}

// nft keeps a set of more than 8,192 hosts as parts picked by a hash of the address
// (docs/language.md): each host is counted in one element of one part and read as the one
// counter; a host whose part is full goes to the overflow; a reload keeps every part.
TEST(HostCounterParts, PartsCountEachHostOnceOverflowWhenFullAndSurviveReloads) {
    TestNamespace netns;
    for (const char* address : {"198.18.0.2/32", "198.18.0.3/32"}) {
        shell("ip -n " + netns.name() + " addr add " + address + " dev lo");
    }
    // 16,384 hosts: two parts of 8,192 per family.
    const auto compiled = [](const std::string& extra, const std::string& within = "") {
        auto result = compile_source(
            "hosts.acct", "policy hosts\ncounter h { out; include loopback; udp dport 9; "
                          "split host destination " +
                              within + "size 16384 }\n" + extra);
        EXPECT_TRUE(result.output);
        return std::move(*result.output);
    };
    const std::vector<std::string> parts{"h_hosts_v4_p0", "h_hosts_v4_p1", "h_hosts_v6_p0",
                                         "h_hosts_v6_p1"};
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const CompiledPolicy first = compiled("");
    EXPECT_EQ(first.sets, parts);
    backend->apply(first, false);
    send_to(netns, "198.18.0.1", 3);
    send_to(netns, "198.18.0.2", 2);
    auto samples = read_counters("hosts", netns.name(), false, BackendKind::nftables);
    EXPECT_EQ(std::count_if(samples.begin(), samples.end(),
                            [](const auto& s) { return !s.label(Dimension::host).empty(); }),
              3); // the two hosts and the overflow, each once
    EXPECT_EQ(host(samples, "h", "198.18.0.1").packets, 3U);
    EXPECT_EQ(host(samples, "h", "198.18.0.2").packets, 2U);

    // Fill both IPv4 parts to their 8,192 with other hosts: 198.18.0.3 then finds its part full.
    std::uint32_t next = 0;
    for (const std::string set : {"h_hosts_v4_p0", "h_hosts_v4_p1"}) {
        const auto listed =
            shell("ip netns exec " + netns.name() + " nft list set inet acctc_hosts " + set +
                  " | grep -o packets | wc -l");
        std::string elements;
        for (int i = std::stoi(listed); i < 8192; ++i, ++next) {
            elements += (elements.empty() ? "" : ", ") + std::string("10.") +
                        std::to_string(next >> 16) + "." + std::to_string((next >> 8) & 255) + "." +
                        std::to_string(next & 255);
        }
        shell("ip netns exec " + netns.name() + " nft add element inet acctc_hosts " + set +
              " '{ " + elements + " }'");
    }
    send_to(netns, "198.18.0.3", 4);
    send_to(netns, "198.18.0.1", 1);
    samples = read_counters("hosts", netns.name(), false, BackendKind::nftables);
    EXPECT_FALSE(host(samples, "h", "198.18.0.3").found);
    EXPECT_EQ(packets_of(samples, "h_overflow"), 4U);
    EXPECT_EQ(host(samples, "h", "198.18.0.1").packets, 4U);

    // A reload keeps every part with its hosts and counts.
    const auto report = backend->apply(compiled("counter other { in; udp dport 10 }\n"), false);
    EXPECT_EQ(report.sets_kept, parts);
    samples = read_counters("hosts", netns.name(), false, BackendKind::nftables);
    EXPECT_EQ(host(samples, "h", "198.18.0.1").packets, 4U);
    EXPECT_EQ(host(samples, "h", "198.18.0.2").packets, 2U);

    // A reload that re-creates the rules picking the part (`within` adds a condition to them;
    // the sets keep their shape and hosts) keeps sending each known host to its part: counted
    // in its element, not added a second time in another part.
    EXPECT_EQ(backend->apply(compiled("", "within 198.18.0.0/16, 2001:db8::/32 "), false).sets_kept,
              parts);
    send_to(netns, "198.18.0.1", 1);
    send_to(netns, "198.18.0.2", 1);
    samples = read_counters("hosts", netns.name(), false, BackendKind::nftables);
    for (const char* address : {"198.18.0.1", "198.18.0.2"}) {
        EXPECT_EQ(std::count_if(samples.begin(), samples.end(),
                                [&](const auto& s) { return s.label(Dimension::host) == address; }),
                  1)
            << address;
    }
    EXPECT_EQ(host(samples, "h", "198.18.0.1").packets, 5U);
    EXPECT_EQ(host(samples, "h", "198.18.0.2").packets, 3U);
    EXPECT_EQ(packets_of(samples, "h_overflow"), 4U);

    // Back to one set per family (8,192 hosts): other sets, so the parts go with their hosts,
    // and apply says so.
    auto one_set =
        compile_source("hosts.acct", "policy hosts\ncounter h { out; include loopback; "
                                     "udp dport 9; split host destination size 8192 }\n");
    ASSERT_TRUE(one_set.output);
    const auto shrunk = backend->apply(*one_set.output, false);
    EXPECT_EQ(shrunk.sets_removed, parts);
    const auto notes = set_change_notes(shrunk);
    EXPECT_NE(std::find(notes.begin(), notes.end(),
                        "note: set h_hosts_v4_p0 was removed; the elements it held are gone"),
              notes.end());
    backend->remove("hosts");
}

INSTANTIATE_TEST_SUITE_P(Backends, HostCounters, every_backend(), backend_param_name);

} // namespace
} // namespace acctc::runtime::testing
