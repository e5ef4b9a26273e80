// Atomic list-and-zero on the iptables backend: UDP over IPv4 and IPv6 flows inside a namespace
// while `counters --reset` runs 50 times; everything the resets reported plus the final reading
// must equal what was sent, packets and bytes, on iptables-legacy and on iptables-nft. Foreign
// rules (one in INPUT, one in a foreign chain carrying an acctc-like comment) keep every packet:
// a reset touches only acctc's counter chains.
#include "acctc/compile.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"
#include "unique_fd.hpp"

#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

constexpr const char* policy_text = R"(policy resetz
counter udp4 { local in; include loopback; udp dport 7001 }
counter udp6 { local in; include loopback; udp dport 7002 }
counter all_udp { local in; include loopback; udp dport 7001, 7002 }
)";

constexpr std::uint16_t v4_port = 7001;
constexpr std::uint16_t v6_port = 7002;
// UdpTraffic's payload over IPv6: what ip6tables counts (layer 3, 40-byte header).
constexpr std::uint64_t v6_wire_bytes = UdpTraffic::payload + 8 + 40;

// UDP datagrams to 2001:db8::1 from a socket inside the namespace, in the background.
class Udp6Traffic {
  public:
    explicit Udp6Traffic(const std::string& netns) {
        const NetnsScope inside(netns);
        socket_ = UniqueFd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!socket_) {
            throw std::runtime_error("cannot create the IPv6 test socket");
        }
    }
    ~Udp6Traffic() { stop(); }
    Udp6Traffic(const Udp6Traffic&) = delete;
    Udp6Traffic& operator=(const Udp6Traffic&) = delete;

    void start() {
        running_ = true;
        thread_ = std::thread([this] {
            static const std::array<char, UdpTraffic::payload> data{};
            sockaddr_in6 to{};
            to.sin6_family = AF_INET6;
            to.sin6_port = htons(v6_port);
            ::inet_pton(AF_INET6, "2001:db8::1", &to.sin6_addr);
            while (running_) {
                if (::sendto(socket_.get(), data.data(), data.size(), 0,
                             reinterpret_cast<const sockaddr*>(&to),
                             sizeof to) == static_cast<ssize_t>(data.size())) {
                    ++sent_;
                }
            }
        });
    }
    void stop() {
        running_ = false;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    std::uint64_t sent() const { return sent_.load(); }

  private:
    UniqueFd socket_;
    std::atomic<std::uint64_t> sent_{0};
    std::atomic<bool> running_{false};
    std::thread thread_;
};

CompiledPolicy compiled() {
    CompileOptions options;
    options.target = Target::iptables;
    auto result = compile_source("resetz.acct", policy_text, options);
    if (!result.output) {
        throw std::runtime_error("test policy does not compile");
    }
    return *result.output;
}

using Totals = std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>;

void add(Totals& totals, const std::vector<CounterReading>& readings) {
    for (const auto& reading : readings) {
        auto& [packets, bytes] = totals[reading.sample.counter];
        packets += reading.sample.packets;
        bytes += reading.sample.bytes;
    }
}

// "[packets:bytes] -A <chain> <spec>" of the one rule in a save whose line contains `needle`.
std::uint64_t saved_packets(const std::string& save, const std::string& needle) {
    for (std::size_t begin = 0; begin < save.size();) {
        const auto end = std::min(save.find('\n', begin), save.size());
        const std::string line = save.substr(begin, end - begin);
        std::smatch m;
        if (line.find(needle) != std::string::npos &&
            std::regex_search(line, m, std::regex("^\\[([0-9]+):[0-9]+\\]"))) {
            return std::stoull(m[1]);
        }
        begin = end + 1;
    }
    ADD_FAILURE() << "no rule " << needle << " in\n" << save;
    return 0;
}

struct Outcome {
    std::uint64_t sent4 = 0, sent6 = 0;
    int nonzero_resets = 0;
    double reset_seconds = 0;
    Totals totals;
};

Outcome run(IptablesVariant variant, int resets) {
    TestNamespace netns;
    const std::string in = "ip netns exec " + netns.name() + " ";
    shell("ip -n " + netns.name() + " addr add 2001:db8::1/128 dev lo nodad");
    for (int tries = 0;
         shell("ip -n " + netns.name() + " -6 route show table local 2001:db8::1").empty();
         ++tries) {
        if (tries > 200) {
            throw std::runtime_error("2001:db8::1 never became local");
        }
        ::usleep(10000);
    }
    const std::string tool = variant == IptablesVariant::legacy ? "-legacy"
                             : variant == IptablesVariant::nft  ? "-nft"
                                                                : "";
    // Foreign rules that see the same packets: a reset must leave them alone.
    for (const std::string family : {"iptables", "ip6tables"}) {
        const std::string cmd = in + family + tool;
        shell(cmd + " -A INPUT -p udp -m comment --comment foreign");
        shell(cmd + " -N foreign && " + cmd + " -A INPUT -p udp -j foreign && " + cmd +
              " -A foreign -m comment --comment acctc:udp4");
    }
    auto backend = make_iptables_backend(netns.name(), variant);
    backend->apply(compiled(), false);

    Outcome outcome;
    UdpTraffic v4(netns.name(), v4_port);
    Udp6Traffic v6(netns.name());
    v4.start(~std::uint64_t{0}, 120);
    v6.start();
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < resets; ++i) {
        const auto readings = backend->counters("resetz", true);
        add(outcome.totals, readings);
        for (const auto& reading : readings) {
            if (reading.sample.counter == "all_udp" && reading.sample.packets != 0) {
                ++outcome.nonzero_resets;
            }
        }
    }
    outcome.reset_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    v4.stop();
    v6.stop();
    add(outcome.totals, backend->counters("resetz", false));
    outcome.sent4 = v4.sent();
    outcome.sent6 = v6.sent();

    const std::string save4 = shell(in + "iptables" + tool + "-save -c -t filter");
    const std::string save6 = shell(in + "ip6tables" + tool + "-save -c -t filter");
    EXPECT_EQ(saved_packets(save4, "--comment foreign"), outcome.sent4) << save4;
    EXPECT_EQ(saved_packets(save4, "-A foreign "), outcome.sent4) << save4;
    EXPECT_EQ(saved_packets(save6, "--comment foreign"), outcome.sent6) << save6;
    EXPECT_EQ(saved_packets(save6, "-A foreign "), outcome.sent6) << save6;
    backend->remove("resetz");
    return outcome;
}

void expect_exact(IptablesVariant variant, const std::string& name) {
    const Outcome o = run(variant, 50);
    std::cout << name << ": sent " << o.sent4 << " IPv4 and " << o.sent6
              << " IPv6 datagrams; 50 resets in " << o.reset_seconds << " s, " << o.nonzero_resets
              << " saw traffic\n";
    // Not vacuous: traffic flowed through the resets in both families.
    EXPECT_GT(o.sent4, 1000U);
    EXPECT_GT(o.sent6, 1000U);
    EXPECT_GE(o.nonzero_resets, 40);
    ASSERT_EQ(o.totals.size(), 3U);
    EXPECT_EQ(o.totals.at("udp4"), std::make_pair(o.sent4, o.sent4 * UdpTraffic::wire_bytes));
    EXPECT_EQ(o.totals.at("udp6"), std::make_pair(o.sent6, o.sent6 * v6_wire_bytes));
    EXPECT_EQ(o.totals.at("all_udp"),
              std::make_pair(o.sent4 + o.sent6,
                             o.sent4 * UdpTraffic::wire_bytes + o.sent6 * v6_wire_bytes));
}

TEST(IptablesReset, ResetsUnderTrafficLoseNothingLegacy) {
    expect_exact(IptablesVariant::legacy, "iptables-legacy");
}

TEST(IptablesReset, ResetsUnderTrafficLoseNothingNft) {
    expect_exact(IptablesVariant::nft, "iptables-nft");
}

// `iptables-restore` as the host installed it: the backend asks it which one it is.
TEST(IptablesReset, ResetsUnderTrafficLoseNothingAutomatic) {
    expect_exact(IptablesVariant::automatic, "iptables (automatic)");
}

} // namespace
} // namespace acctc::runtime::testing
