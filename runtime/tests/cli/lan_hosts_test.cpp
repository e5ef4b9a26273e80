// examples/lan_hosts.acct on a router namespace: two LAN hosts send through it to the WAN side,
// and `acctc counters --json` shows, per LAN host in labels.host, exactly what it sent and what
// came back over the WAN link, and --prometheus a host label; on nft and on both iptables variants
// (applied with --backend, read without: the backend acctc remembers). (The bench's lan_hosts.scn
// does the same with 50 hosts and pings.)
#include "kernel_fixture.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

// Namespaces beside the fixture's (the router), deleted even when the test fails.
struct Peers {
    std::vector<std::string> names;
    ~Peers() {
        for (const auto& name : names) {
            shell_status("ip netns del " + name);
        }
    }
    std::string add(const std::string& role) {
        names.push_back("acctc-lh-" + std::to_string(::getpid()) + "-" + role);
        shell("ip netns add " + names.back() + " && ip -n " + names.back() + " link set lo up");
        return names.back();
    }
};

// A veth from the router (device `inside`) to `peer` (eth0) with addresses on both ends.
void wire(const std::string& router, const std::string& inside, const std::string& peer,
          const std::string& router_address, const std::string& peer_address,
          const std::string& gateway) {
    shell("ip -n " + router + " link add " + inside + " type veth peer name eth0 netns " + peer);
    shell("ip -n " + router + " addr add " + router_address + " dev " + inside + " && ip -n " +
          router + " link set " + inside + " up");
    shell("ip -n " + peer + " addr add " + peer_address + " dev eth0 && ip -n " + peer +
          " link set eth0 up && ip -n " + peer + " route add default via " + gateway);
}

class LanHostsExample : public ::testing::TestWithParam<std::string> {};

TEST_P(LanHostsExample, CountersJsonShowsEachLanHost) {
    TestNamespace router;
    Peers peers;
    const std::string wan = peers.add("wan");
    const std::string a = peers.add("a");
    const std::string b = peers.add("b");
    shell("ip netns exec " + router.name() + " sysctl -qw net.ipv4.ip_forward=1");
    wire(router.name(), "wan0", wan, "198.19.0.1/24", "198.19.0.2/24", "198.19.0.1");
    // The LAN: a bridge lan0 in the router with one port per host.
    shell("ip -n " + router.name() + " link add lan0 type bridge && ip -n " + router.name() +
          " addr add 198.18.0.1/16 dev lan0 && ip -n " + router.name() + " link set lan0 up");
    for (const auto& [host, port, address] :
         {std::tuple{a, "pa", "198.18.1.1/16"}, std::tuple{b, "pb", "198.18.1.2/16"}}) {
        shell("ip -n " + router.name() + " link add " + port + " type veth peer name eth0 netns " +
              host);
        shell("ip -n " + router.name() + " link set " + port + " master lan0 up");
        shell("ip -n " + host + " addr add " + address + " dev eth0 && ip -n " + host +
              " link set eth0 up && ip -n " + host + " route add default via 198.18.0.1");
    }
    const std::string cli = std::string(ACCTC_CLI_PATH) + " ";
    // In nft sets: by default the counter counts in BPF, pinned outside the namespace (and a
    // bpffs mounted on the host's /sys/fs/bpf); cli.bpf_hosts_lan counts it there in a private
    // bpffs (docs/runtime.md, "Per-host counters in BPF").
    shell(cli + "apply --hosts-in nft --backend " + GetParam() + " " + ACCTC_SOURCE_DIR +
          "/examples/lan_hosts.acct --netns " + router.name() + " 2>/dev/null");
    // UDP to the WAN host's discard port: it answers with port unreachable, which comes back.
    const auto send = [](const std::string& from, int count) {
        for (int i = 0; i < count; ++i) {
            shell("ip netns exec " + from + " bash -c 'echo x > /dev/udp/198.19.0.2/9'");
        }
    };
    send(a, 3);
    send(b, 2);
    const auto json =
        nlohmann::json::parse(shell(cli + "counters --json lan_hosts --netns " + router.name()));
    std::map<std::string, std::uint64_t> seen; // direction@host -> packets
    for (const auto& counter : json["counters"]) {
        if (counter["labels"].contains("host")) {
            seen[counter["labels"]["direction"].get<std::string>() + "@" +
                 counter["labels"]["host"].get<std::string>()] = counter["packets"];
        }
    }
    EXPECT_EQ(seen["out@198.18.1.1"], 3U);
    EXPECT_EQ(seen["out@198.18.1.2"], 2U);
    EXPECT_EQ(seen["in@198.18.1.1"], 3U); // the ICMP errors back to each host
    EXPECT_EQ(seen["in@198.18.1.2"], 2U);
    EXPECT_EQ(seen["out@overflow"], 0U);
    EXPECT_EQ(seen["in@overflow"], 0U);
    const std::string prometheus =
        shell(cli + "counters --prometheus lan_hosts --netns " + router.name());
    EXPECT_NE(prometheus.find("acctc_packets_total{policy=\"lan_hosts\",counter=\"lan_hosts\","
                              "direction=\"out\",host=\"198.18.1.1\"} 3"),
              std::string::npos)
        << prometheus;
}

INSTANTIATE_TEST_SUITE_P(Backends, LanHostsExample,
                         ::testing::Values("nft", "iptables-legacy", "iptables-nft"),
                         [](const auto& param) { return backend_test_name(param.param); });

} // namespace
} // namespace acctc::runtime::testing
