// Same counts on the forward path, where the iptables text needs its sub-chains: a router
// namespace between two hosts, a policy with a two-interface alias counted both ways (exclusion
// chains), an accept for a set of interfaces followed by a drop (a goto continuation), a
// classification, and IPv4 fragments. The same traffic through the nft, iptables-legacy and
// iptables-nft backends must give identical counters and deliver the same datagrams.
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"
#include "unique_fd.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <map>
#include <netinet/in.h>
#include <sys/socket.h>

namespace acctc::runtime::testing {
namespace {

constexpr const char* policy_text = R"(policy fwd
interface wan = eth0, eth1
counter wan_both { forward via wan }
counter to_b { forward out via wan; to 198.18.2.0/24 }
classify kinds forward {
    dns: udp port 53
    other_udp: udp
    otherwise: rest
}
counter fragments { forward; fragment }
accept forward via wan udp dport 53
counter refused { forward via wan; udp dport 54; drop }
)";

struct Result {
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> counters;
    std::map<std::uint16_t, int> received; // port -> datagrams B got
};

sockaddr_in address(const char* ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

UniqueFd bound_udp(const char* ip, std::uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    const auto a = address(ip, port);
    if (!fd || ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        throw std::runtime_error("bind");
    }
    return fd;
}

Result run(BackendKind kind) {
    TestNamespace router, a, b;
    const std::string r = router.name();
    shell("ip -n " + r + " link add eth0 type veth peer name a0 netns " + a.name());
    shell("ip -n " + r + " link add eth1 type veth peer name b0 netns " + b.name());
    shell("ip -n " + r + " addr add 198.18.1.1/24 dev eth0 && ip -n " + r +
          " addr add 198.18.2.1/24 dev eth1 && ip -n " + r + " link set eth0 up && ip -n " + r +
          " link set eth1 up && ip netns exec " + r + " sysctl -qw net.ipv4.ip_forward=1");
    shell("ip -n " + a.name() + " addr add 198.18.1.2/24 dev a0 && ip -n " + a.name() +
          " link set a0 up && ip -n " + a.name() + " route add default via 198.18.1.1");
    shell("ip -n " + b.name() + " addr add 198.18.2.2/24 dev b0 && ip -n " + b.name() +
          " link set b0 up && ip -n " + b.name() + " route add default via 198.18.2.1");

    CompileOptions options;
    options.target = backend_info(kind).target;
    const auto compiled = compile_source("fwd.acct", policy_text, options);
    if (!compiled.output) {
        throw std::runtime_error("test policy does not compile");
    }
    const auto backend = make_backend(kind, r);
    backend->apply(*compiled.output, false);

    std::map<std::uint16_t, UniqueFd> receivers;
    {
        const NetnsScope in_b(b.name());
        for (std::uint16_t port : {53, 54, 55}) {
            receivers.emplace(port, bound_udp("198.18.2.2", port));
        }
    }
    {
        const NetnsScope in_a(a.name());
        const UniqueFd reply_53 = bound_udp("198.18.1.2", 5353);
        UniqueFd sender(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        const int dont = IP_PMTUDISC_DONT;
        ::setsockopt(sender.get(), IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof dont);
        const std::string small(40, 's');
        const std::string large(3000, 'l'); // three fragments on a 1500-byte link
        for (std::uint16_t port : {53, 54, 55}) {
            const auto to = address("198.18.2.2", port);
            for (int i = 0; i < port - 50; ++i) {
                const std::string& payload = port == 55 && i % 2 ? large : small;
                if (::sendto(sender.get(), payload.data(), payload.size(), 0,
                             reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
                    throw std::runtime_error("sendto");
                }
            }
        }
    }
    Result result;
    // Forwarding is asynchronous: wait until the deliverable datagrams arrived (53: 3, 55: 5).
    for (int tries = 0; tries < 200; ++tries) {
        for (auto& [port, fd] : receivers) {
            char buffer[4096];
            while (::recv(fd.get(), buffer, sizeof buffer, 0) >= 0) {
                ++result.received[port];
            }
        }
        if (result.received[53] == 3 && result.received[55] == 5) {
            break;
        }
        ::usleep(10000);
    }
    ::usleep(50000); // a datagram to 54 that got through would have arrived by now
    for (auto& [port, fd] : receivers) {
        char buffer[4096];
        while (::recv(fd.get(), buffer, sizeof buffer, 0) >= 0) {
            ++result.received[port];
        }
    }
    for (const auto& reading : backend->counters("fwd", false)) {
        result.counters[reading.sample.counter] = {reading.sample.packets, reading.sample.bytes};
    }
    return result;
}

TEST(SameCounts, ForwardPathWithExclusionsContinuationsAndFragments) {
    const Result nft = run(BackendKind::nftables);
    for (const auto kind : {BackendKind::iptables_legacy, BackendKind::iptables_nft}) {
        Result other = run(kind);
        // nft counts what leaves via wan at its egress hook, as the wire carries it: not the 4
        // datagrams `refused` drops at forward, which iptables' FORWARD counts before the drop
        // (docs/counting.md, "Leaving fragments").
        EXPECT_EQ(other.counters.at("to_b"), (std::pair<std::uint64_t, std::uint64_t>{16, 6816}));
        other.counters["to_b"] = nft.counters.at("to_b");
        EXPECT_EQ(nft.counters, other.counters) << backend_info(kind).name;
        EXPECT_EQ(nft.received, other.received) << backend_info(kind).name;
    }
    EXPECT_EQ(nft.received.at(53), 3);
    EXPECT_EQ(nft.received.count(54) ? nft.received.at(54) : 0, 0);
    EXPECT_EQ(nft.received.at(55), 5);
    // 3 + 4 small datagrams, 3 small and 2 large ones (3 fragments each) to 55; what leaves
    // toward b all but the 4 refused.
    EXPECT_EQ(nft.counters.at("wan_both").first, 3U + 4 + 3 + 2 * 3);
    EXPECT_EQ(nft.counters.at("to_b").first, 3U + 3 + 2 * 3);
    EXPECT_EQ(nft.counters.at("fragments").first, 2U * 2);
    EXPECT_EQ(nft.counters.at("refused").first, 4U);
    EXPECT_EQ(nft.counters.at("kinds_dns").first, 3U);
    EXPECT_EQ(nft.counters.at("kinds_other_udp").first, 4U + 5 + 2 * 2);
}

} // namespace
} // namespace acctc::runtime::testing
