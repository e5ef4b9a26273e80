// Same policy, same counts: one policy compiled for nft and for iptables, loaded into three
// namespaces (nft, iptables-legacy, iptables-nft), the same deterministic traffic sent in each
// (UDP over IPv4 and IPv6 to bound receivers, ICMP echo), and every counter read back through
// each backend must hold identical packet and byte counts. Separate namespaces, so one backend's
// connection marks or drops can never help or hide the other's.
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"
#include "unique_fd.hpp"

#include <arpa/inet.h>
#include <cstdio>
#include <gtest/gtest.h>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

constexpr const char* policy_text = R"(policy same
network lab = 198.18.0.0/24, 2001:db8::/64
interface loop = lo
interface loops = l*
counter udp_total { local; include loopback; udp; split direction }
counter low_ports { local in; include loopback; udp dport 9000..9004 }
counter either_9003 { local; include loopback; udp port 9003 }
counter from_lab { local in; include loopback; from lab }
counter followed { local; include loopback; udp dport 9002; follow connection }
counter peered { local in; include loopback; udp; from peers of followed }
counter protos { local out; include loopback; split protocol udp, icmp, icmpv6 }
counter pings { local; include loopback; icmp type echo-request, echo-reply; split type }
counter via_lo { local in; via loop; udp dport 9005, 9006, 9007 }
counter wild { local out; via loops }
classify band local in include loopback {
    low: udp dport 9000..9004
    high: udp dport 9005..9008
    otherwise: other
}
counter dropped { local in; include loopback; udp dport 9009; drop }
)";

CompiledPolicy compiled(Target target, const std::string& name = "same",
                        const std::string& text = policy_text) {
    CompileOptions options;
    options.target = target;
    auto result = compile_source(name + ".acct", text, options);
    if (!result.output) {
        throw std::runtime_error("test policy does not compile");
    }
    return *result.output;
}

UniqueFd udp_socket(int family) {
    UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        throw std::runtime_error("socket");
    }
    return fd;
}

sockaddr_in v4(const std::string& ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    return a;
}

sockaddr_in6 v6(const std::string& ip, std::uint16_t port) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &a.sin6_addr);
    return a;
}

sockaddr_in6 v6_address(std::uint16_t port) {
    return v6("2001:db8::1", port);
}

sockaddr_in v4_address(std::uint16_t port) {
    return v4("198.18.0.1", port);
}

std::uint16_t checksum(const unsigned char* data, std::size_t size) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < size; i += 2) {
        sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum);
}

// 2001:db8::1 on lo, once its local route is there.
void add_local_v6(const std::string& netns) {
    shell("ip -n " + netns + " addr add 2001:db8::1/128 dev lo nodad");
    // The local route of an IPv6 address appears from a work queue, after `ip` returns; until
    // then datagrams to it bounce as ICMPv6 errors.
    for (int tries = 0; shell("ip -n " + netns + " -6 route show table local 2001:db8::1").empty();
         ++tries) {
        ASSERT_LT(tries, 200) << "2001:db8::1 never became local";
        ::usleep(10000);
    }
}

// The same packets in any namespace: receivers bound first (no ICMP port unreachable, whose
// rate limit would make counts timing-dependent), then UDP per port in a fixed order (the peer
// set fills at the first datagram to 9002), IPv6 datagrams, and three ICMP echo requests that
// the kernel answers.
void drive(const std::string& netns) {
    add_local_v6(netns);
    if (::testing::Test::HasFatalFailure()) {
        return;
    }
    const NetnsScope inside(netns);
    std::vector<UniqueFd> receivers;
    for (std::uint16_t port = 9000; port <= 9009; ++port) {
        receivers.push_back(udp_socket(AF_INET));
        const auto a = v4_address(port);
        ASSERT_EQ(0,
                  ::bind(receivers.back().get(), reinterpret_cast<const sockaddr*>(&a), sizeof a));
    }
    receivers.push_back(udp_socket(AF_INET6));
    const auto v6 = v6_address(9001);
    ASSERT_EQ(0, ::bind(receivers.back().get(), reinterpret_cast<const sockaddr*>(&v6), sizeof v6));

    const UniqueFd sender = udp_socket(AF_INET);
    const UniqueFd sender6 = udp_socket(AF_INET6);
    const std::string payload(48, 'x');
    for (std::uint16_t port = 9000; port <= 9009; ++port) {
        const auto a = v4_address(port);
        for (int i = 0; i < port - 8995; ++i) {
            ASSERT_EQ(::sendto(sender.get(), payload.data(), payload.size() - i % 7, 0,
                               reinterpret_cast<const sockaddr*>(&a), sizeof a),
                      static_cast<ssize_t>(payload.size() - i % 7));
        }
    }
    for (int i = 0; i < 6; ++i) {
        ASSERT_GT(::sendto(sender6.get(), payload.data(), 20 + i, 0,
                           reinterpret_cast<const sockaddr*>(&v6), sizeof v6),
                  0);
    }
    const UniqueFd icmp(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
    ASSERT_TRUE(icmp);
    for (std::uint16_t seq = 1; seq <= 3; ++seq) {
        unsigned char echo[16] = {ICMP_ECHO, 0,    0, 0,
                                  0x12,      0x34, 0, static_cast<unsigned char>(seq)};
        const std::uint16_t sum = checksum(echo, sizeof echo);
        echo[2] = static_cast<unsigned char>(sum >> 8);
        echo[3] = static_cast<unsigned char>(sum & 0xff);
        const auto a = v4_address(0);
        ASSERT_EQ(::sendto(icmp.get(), echo, sizeof echo, 0, reinterpret_cast<const sockaddr*>(&a),
                           sizeof a),
                  static_cast<ssize_t>(sizeof echo));
    }
    // Loopback delivers synchronously; reading the replies makes sure they went through.
    for (int replies = 0; replies < 3;) {
        unsigned char buffer[256];
        const ssize_t n = ::recv(icmp.get(), buffer, sizeof buffer, 0);
        ASSERT_GT(n, 20);
        replies += buffer[20] == ICMP_ECHOREPLY ? 1 : 0;
    }
}

using Counts = std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>;

Counts counts_of(Backend& backend, const std::string& policy = "same") {
    Counts out;
    for (const auto& reading : backend.counters(policy, false)) {
        out[reading.sample.counter] = {reading.sample.packets, reading.sample.bytes};
    }
    return out;
}

Counts run(BackendKind kind) {
    TestNamespace netns;
    const auto backend = make_backend(kind, netns.name());
    backend->apply(compiled(backend_info(kind).target), false);
    drive(netns.name());
    return counts_of(*backend);
}

TEST(SameCounts, NftIptablesLegacyAndIptablesNftCountTheSameTraffic) {
    const Counts nft = run(BackendKind::nftables);
    const Counts legacy = run(BackendKind::iptables_legacy);
    const Counts iptables_nft = run(BackendKind::iptables_nft);
    EXPECT_EQ(nft, legacy);
    EXPECT_EQ(nft, iptables_nft);
    for (const auto& [counter, value] : nft) {
        std::cout << counter << " " << value.first << " packets " << value.second << " bytes\n";
    }
    // Not equal by being empty: what was sent is there.
    ASSERT_EQ(nft.size(), 18U);
    EXPECT_EQ(nft.at("low_ports").first, 5U + 6 + 7 + 8 + 9 + 6); // and IPv6 to 9001
    EXPECT_EQ(nft.at("band_low").first, 5U + 6 + 7 + 8 + 9 + 6);
    EXPECT_EQ(nft.at("band_high").first, 10U + 11 + 12 + 13);
    EXPECT_EQ(nft.at("band_other").first, 14U + 3 + 3); // 9009, echo requests and replies
    EXPECT_EQ(nft.at("dropped").first, 14U);
    EXPECT_EQ(nft.at("either_9003").first, 2U * 8); // out and in
    EXPECT_EQ(nft.at("followed").first, 2U * 7);
    // From the first datagram to 9002 on; IPv6 never talked to 9002.
    EXPECT_EQ(nft.at("peered").first, 7U + 8 + 9 + 10 + 11 + 12 + 13 + 14);
    EXPECT_EQ(nft.at("pings_echo_request").first, 6U);
    EXPECT_EQ(nft.at("pings_echo_reply").first, 6U);
    EXPECT_EQ(nft.at("via_lo").first, 10U + 11 + 12);
    EXPECT_EQ(nft.at("from_lab").first, 95U + 6 + 6); // UDP v4, UDP v6, ICMP in
}

// Every backend labels a counter with its declaration's file:line (docs/iptables.md: the
// counting rule's comment holds it, as the nft counter's comment does).
TEST(SameCounts, EveryBackendShowsTheSameOrigins) {
    std::map<BackendKind, std::map<std::string, std::string>> origins;
    for (const auto kind :
         {BackendKind::nftables, BackendKind::iptables_legacy, BackendKind::iptables_nft}) {
        TestNamespace netns;
        const auto backend = make_backend(kind, netns.name());
        backend->apply(compiled(backend_info(kind).target), false);
        for (const auto& reading : backend->counters("same", false)) {
            origins[kind][reading.sample.counter] = reading.origin();
        }
    }
    ASSERT_EQ(origins[BackendKind::nftables].size(), 18U);
    EXPECT_EQ(origins[BackendKind::nftables].at("low_ports"), "same.acct:6");
    EXPECT_EQ(origins[BackendKind::nftables].at("band_low"), "same.acct:16");
    EXPECT_EQ(origins[BackendKind::iptables_legacy], origins[BackendKind::nftables]);
    EXPECT_EQ(origins[BackendKind::iptables_nft], origins[BackendKind::nftables]);
}

// The same policy applied again from a file named another way, with a comment line on top
// (every origin moved): every counter is kept with its count, on nft and both iptables variants.
TEST(SameCounts, ReapplyWithMovedLinesKeepsEveryCount) {
    for (const auto kind :
         {BackendKind::nftables, BackendKind::iptables_legacy, BackendKind::iptables_nft}) {
        TestNamespace netns;
        const auto backend = make_backend(kind, netns.name());
        const Target target = backend_info(kind).target;
        backend->apply(compiled(target), false);
        drive(netns.name());
        const Counts before = counts_of(*backend);
        const auto report = backend->apply(
            compiled(target, "moved", std::string("# a comment on top\n") + policy_text), false);
        EXPECT_EQ(report.kept.size(), 18U) << backend_info(kind).name;
        EXPECT_TRUE(report.added.empty()) << backend_info(kind).name;
        EXPECT_EQ(counts_of(*backend), before) << backend_info(kind).name;
        EXPECT_EQ(before.at("low_ports").first, 5U + 6 + 7 + 8 + 9 + 6);
        // ORIGIN follows the policy: the line and file of the apply that kept the counter.
        for (const auto& reading : backend->counters("same", false)) {
            if (reading.sample.counter == "low_ports") {
                EXPECT_EQ(reading.origin(), "moved.acct:7") << backend_info(kind).name;
            }
        }
    }
}

// iptables-nft creates the filter tables for acctc's first rule; the remove that leaves them
// as apply found them deletes them again, so `nft list ruleset` is empty as before. The last of
// two policies deletes them; a table with a foreign rule in it stays, with the rule.
TEST(IptablesBackend, RemoveDeletesTheFilterTablesApplyCreated) {
    TestNamespace netns;
    const auto backend = make_backend(BackendKind::iptables_nft, netns.name());
    const Target target = backend_info(BackendKind::iptables_nft).target;
    ASSERT_EQ(netns.nft("list ruleset"), "");
    backend->apply(compiled(target), false);
    backend->remove("same");
    EXPECT_EQ(netns.nft("list ruleset"), "");

    backend->apply(compiled(target), false);
    backend->apply(compiled(target, "other", "policy other\ncounter all_udp { local; udp }\n"),
                   false);
    backend->remove("same");
    EXPECT_NE(netns.nft("list ruleset"), "");
    backend->remove("other");
    EXPECT_EQ(netns.nft("list ruleset"), "");

    backend->apply(compiled(target), false);
    shell("ip netns exec " + netns.name() + " iptables-nft -A INPUT -p udp --dport 9 -j ACCEPT");
    backend->remove("same");
    const std::string left = netns.nft("list ruleset");
    EXPECT_NE(left.find("table ip filter"), std::string::npos) << left;
    EXPECT_NE(left.find("dport 9"), std::string::npos) << left;
    EXPECT_EQ(left.find("table ip6 filter"), std::string::npos) << left;
}

// A re-apply leaves counting chains alone (no count lost), drops what the policy no longer
// has, and never touches a foreign rule, chain or set.
TEST(IptablesBackend, ReapplyKeepsCountsRemoveLeavesForeignRules) {
    for (const auto variant : {IptablesVariant::legacy, IptablesVariant::nft}) {
        TestNamespace netns;
        const std::string tool = variant == IptablesVariant::legacy ? "legacy" : "nft";
        const std::string in = "ip netns exec " + netns.name() + " ";
        shell(in + "iptables-" + tool + " -A INPUT -p tcp --dport 22 -j ACCEPT");
        shell(in + "iptables-" + tool + " -N foreign && " + in + "ip6tables-" + tool +
              " -N foreign");
        shell(in + "ipset create foreign hash:ip");
        auto backend = make_iptables_backend(netns.name(), variant);
        const CompiledPolicy policy = compiled(Target::iptables);
        auto first = backend->apply(policy, false);
        EXPECT_TRUE(first.created);
        EXPECT_EQ(first.added.size(), 18U);
        UdpTraffic(netns.name(), 9).send(5);
        const auto second = backend->apply(policy, false);
        EXPECT_EQ(second.kept.size(), 18U);
        EXPECT_TRUE(second.added.empty());
        UdpTraffic(netns.name(), 9).send(4);
        EXPECT_EQ(counts_of(*backend).at("udp_total_in").first, 9U);
        EXPECT_EQ(backend->live_ruleset("same"), backend->planned_ruleset(policy));

        // One counter fewer: reported with its value, its chain gone.
        std::string smaller_text = policy_text;
        smaller_text.replace(smaller_text.find("counter wild"),
                             smaller_text.find('\n', smaller_text.find("counter wild")) -
                                 smaller_text.find("counter wild") + 1,
                             "");
        CompileOptions options;
        options.target = Target::iptables;
        const auto smaller = compile_source("same.acct", smaller_text, options);
        ASSERT_TRUE(smaller.output);
        const auto third = backend->apply(*smaller.output, false);
        ASSERT_EQ(third.removed.size(), 1U);
        EXPECT_EQ(third.removed[0].sample.counter, "wild");
        // The 9 datagrams leave via lo, and so may ICMP port unreachables (rate-limited).
        EXPECT_GE(third.removed[0].sample.packets, 9U);
        EXPECT_EQ(counts_of(*backend).at("udp_total_in").first, 9U);

        const auto removed = backend->remove("same");
        EXPECT_EQ(removed.final_counters.size(), 17U);
        const std::string v4 = shell(in + "iptables-" + tool + "-save -t filter");
        EXPECT_EQ(v4.find("acctc"), std::string::npos) << v4;
        EXPECT_NE(v4.find("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"), std::string::npos);
        EXPECT_NE(v4.find(":foreign"), std::string::npos);
        const std::string sets = shell(in + "ipset list -n");
        EXPECT_EQ(sets, "foreign\n");
        try {
            backend->remove("same");
            ADD_FAILURE() << "removed a policy twice";
        } catch (const RuntimeError& error) {
            EXPECT_EQ(error.kind(), ErrorKind::unknown_table);
        }
    }
}

// Same counts through lookup trees: classifications and a split of more entries than the
// iptables emitter writes in a row (docs/iptables.md "Cost per packet") — protocol+port, IPv4
// and IPv6 networks, owner groups, protocols — the same datagrams sent in each namespace from
// 48 source addresses per family and from sockets of 12 groups, every counter identical.
// IPv6 addresses' groups are hexadecimal.
std::string hex(int value) {
    char text[16];
    std::snprintf(text, sizeof text, "%x", value);
    return text;
}

std::string tree_policy_text() {
    std::string text = "policy trees\nclassify ports local in include loopback {\n";
    // tcp and udp entries of the same ports: the key is protocol . port.
    text += "    p0: udp dport 9000\n    p1: udp dport 9001, 9100\n    p2: tcp dport 9001\n";
    for (int p = 3; p <= 9; ++p) {
        text += "    p" + std::to_string(p) + ": udp dport " + std::to_string(8999 + p) + "\n";
    }
    text += "    p10: udp dport 9500\n    otherwise: other\n}\n";
    // Networks of 4 addresses in both families; sources past the last one match none.
    text += "classify nets local in include loopback {\n";
    for (int n = 0; n < 11; ++n) {
        text += "    n" + std::to_string(n) + ": from 198.18.0." + std::to_string(4 * n) +
                "/30, 2001:db8::" + hex(4 * n) + "/126\n";
    }
    text += "}\nclassify groups local out include loopback {\n";
    for (int g = 0; g < 11; ++g) {
        text += "    g" + std::to_string(g) + ": owner group " + std::to_string(7000 + g) + "\n";
    }
    text += "    otherwise: other\n}\n";
    text += "counter protos { local in; include loopback; split protocol tcp, udp, icmp, icmpv6, "
            "sctp, dccp, gre, esp, ah }\n";
    return text;
}

template <typename Address>
void bind_to(int fd, const Address& a) {
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        throw std::runtime_error("bind");
    }
}

template <typename Address>
void send_to(int fd, const Address& a, std::size_t count, std::size_t size) {
    const std::string payload(size, 'x');
    for (std::size_t i = 0; i < count; ++i) {
        if (::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&a),
                     sizeof a) != static_cast<ssize_t>(payload.size())) {
            throw std::runtime_error("sendto");
        }
    }
}

// The same datagrams in any namespace: receivers on every port first (no ICMP errors), then
// from 48 sources per family (the local routes make them this host's) to ports spread over
// the classes, and from sockets of 12 groups.
void drive_trees(const std::string& netns) {
    shell("ip -n " + netns + " route add local 198.18.0.0/26 dev lo");
    shell("ip -n " + netns + " -6 route add local 2001:db8::/122 dev lo");
    add_local_v6(netns);
    if (::testing::Test::HasFatalFailure()) {
        return;
    }
    const NetnsScope inside(netns);
    std::vector<UniqueFd> receivers;
    std::vector<std::uint16_t> ports;
    for (std::uint16_t port = 9000; port <= 9011; ++port) {
        ports.push_back(port);
    }
    ports.push_back(9100);
    ports.push_back(9500);
    for (const auto port : ports) {
        receivers.push_back(udp_socket(AF_INET));
        bind_to(receivers.back().get(), v4("198.18.0.1", port));
        receivers.push_back(udp_socket(AF_INET6));
        bind_to(receivers.back().get(), v6("2001:db8::1", port));
    }
    const int on = 1;
    for (int k = 1; k <= 48; ++k) {
        const std::uint16_t port = ports[static_cast<std::size_t>(k) % ports.size()];
        const auto count = static_cast<std::size_t>(1 + k % 3);
        const UniqueFd s4 = udp_socket(AF_INET);
        ::setsockopt(s4.get(), IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
        bind_to(s4.get(), v4("198.18.0." + std::to_string(k), 0));
        send_to(s4.get(), v4("198.18.0.1", port), count, 30 + static_cast<std::size_t>(k));
        const UniqueFd s6 = udp_socket(AF_INET6);
        ::setsockopt(s6.get(), IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof on);
        bind_to(s6.get(), v6("2001:db8::" + hex(k), 0));
        send_to(s6.get(), v6("2001:db8::1", port), count + 1, 20 + static_cast<std::size_t>(k));
    }
    // A socket's group is the file system group of whoever created it.
    for (int g = 0; g < 12; ++g) {
        ASSERT_EQ(::setegid(static_cast<gid_t>(7000 + g)), 0);
        const UniqueFd s = udp_socket(AF_INET);
        ASSERT_EQ(::setegid(0), 0);
        send_to(s.get(), v4("198.18.0.1", 9000), static_cast<std::size_t>(1 + g), 40);
    }
}

Counts run_trees(BackendKind kind) {
    TestNamespace netns;
    const auto backend = make_backend(kind, netns.name());
    backend->apply(compiled(backend_info(kind).target, "trees", tree_policy_text()), false);
    drive_trees(netns.name());
    return counts_of(*backend, "trees");
}

TEST(SameCounts, LookupTreesCountAsNftDoes) {
    // The iptables text really has trees: chains below the classifications.
    const auto text = compiled(Target::iptables, "trees", tree_policy_text()).iptables->v4;
    EXPECT_NE(text.find("-k-ports-t0-"), std::string::npos);
    EXPECT_NE(text.find("-k-nets-t0-"), std::string::npos);
    const Counts nft = run_trees(BackendKind::nftables);
    const Counts legacy = run_trees(BackendKind::iptables_legacy);
    const Counts iptables_nft = run_trees(BackendKind::iptables_nft);
    EXPECT_EQ(nft, legacy);
    EXPECT_EQ(nft, iptables_nft);
    for (const auto& [counter, value] : nft) {
        std::cout << counter << " " << value.first << " packets " << value.second << " bytes\n";
    }
    // Not equal by being empty: every class of every kind saw its datagrams.
    for (int n = 0; n < 11; ++n) {
        EXPECT_GT(nft.at("nets_n" + std::to_string(n)).first, 0U) << n;
    }
    for (int g = 0; g < 11; ++g) {
        EXPECT_EQ(nft.at("groups_g" + std::to_string(g)).first, 1U + g) << g;
    }
    EXPECT_GT(nft.at("groups_other").first, 12U); // 7011 and the sockets of group 0
    for (const char* p : {"p0", "p1", "p3", "p9", "p10", "other"}) {
        EXPECT_GT(nft.at(std::string("ports_") + p).first, 0U) << p;
    }
    EXPECT_EQ(nft.at("ports_p2").first, 0U); // no TCP
    EXPECT_GT(nft.at("protos_udp").first, 0U);
}

} // namespace
} // namespace acctc::runtime::testing
