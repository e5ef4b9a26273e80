// Kernel tests for the peers: every report is checked against nft counters loaded by hand in
// the peers' namespaces, so a report that is off by one packet or byte fails.
#include "acctc/testbench/capture.hpp"
#include "acctc/testbench/nft.hpp"
#include "acctc/testbench/traffic.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace acctc::testbench {
namespace {

IpPrefix prefix(const char* text) {
    return *IpPrefix::parse(text);
}
IpAddress address(const char* text) {
    return *IpAddress::parse(text);
}

TopologySpec client_router_server(unsigned server_mtu) {
    TopologySpec spec;
    spec.nodes = {{"client", false}, {"router", true}, {"server", false}};
    spec.links = {{{"client", "eth0"}, {"router", "c0"}, 1500},
                  {{"router", "s0"}, {"server", "eth0"}, server_mtu}};
    spec.addresses = {{{"client", "eth0"}, prefix("198.18.1.1/24")},
                      {{"client", "eth0"}, prefix("2001:db8:1::1/64")},
                      {{"router", "c0"}, prefix("198.18.1.254/24")},
                      {{"router", "c0"}, prefix("2001:db8:1::fe/64")},
                      {{"router", "s0"}, prefix("198.18.2.254/24")},
                      {{"router", "s0"}, prefix("2001:db8:2::fe/64")},
                      {{"server", "eth0"}, prefix("198.18.2.1/24")},
                      {{"server", "eth0"}, prefix("2001:db8:2::1/64")}};
    spec.routes = {{"client", prefix("0.0.0.0/0"), address("198.18.1.254")},
                   {"client", prefix("::/0"), address("2001:db8:1::fe")},
                   {"server", prefix("0.0.0.0/0"), address("198.18.2.254")},
                   {"server", prefix("::/0"), address("2001:db8:2::fe")}};
    return spec;
}

// Counts what leaves and enters eth0 at the output and input hooks, per transport protocol.
const char* const probe_ruleset = R"(table inet probe {
    counter udp_out {}
    counter udp_in {}
    counter tcp_out {}
    counter tcp_in {}
    counter icmp_out {}
    counter icmp_in {}
    chain out {
        type filter hook output priority 0;
        oifname "eth0" meta l4proto udp counter name udp_out
        oifname "eth0" meta l4proto tcp counter name tcp_out
        oifname "eth0" icmp type echo-request counter name icmp_out
        oifname "eth0" meta l4proto ipv6-icmp icmpv6 type echo-request counter name icmp_out
    }
    chain in {
        type filter hook input priority 0;
        iifname "eth0" meta l4proto udp counter name udp_in
        iifname "eth0" meta l4proto tcp counter name tcp_in
        iifname "eth0" icmp type echo-reply counter name icmp_in
        iifname "eth0" icmpv6 type echo-reply counter name icmp_in
    }
}
)";

CounterValue as_counter(const Traffic& traffic) {
    return {traffic.packets, traffic.bytes};
}

class TrafficTest : public ::testing::TestWithParam<const char*> {
  protected:
    void SetUp() override {
        topology_.emplace(client_router_server(1400), RunPrefix::current());
        load_ruleset(topology_->netns("client"), probe_ruleset);
        load_ruleset(topology_->netns("server"), probe_ruleset);
    }
    IpAddress server_address() const {
        return address(std::string(GetParam()) == "v4" ? "198.18.2.1" : "2001:db8:2::1");
    }
    FlowSpec flow(Protocol protocol) const {
        FlowSpec spec;
        spec.name = "probe";
        spec.protocol = protocol;
        spec.client_node = "client";
        spec.server_node = "server";
        spec.server_address = server_address();
        spec.server_port = 21212;
        spec.client_identity = {1000, 4242, {}, {}};
        spec.server_identity = {1001, 1001, {}, {}};
        return spec;
    }
    std::map<std::string, CounterValue> counters(const char* node) const {
        return read_counters(topology_->netns(node), "probe");
    }
    std::optional<Topology> topology_;
};

TEST_P(TrafficTest, UdpReportsMatchTheHooksExactly) {
    auto spec = flow(Protocol::udp);
    spec.send = {{30, 67}, {10, 20}};
    spec.reply = {{25, 67}};
    spec.rate = 1000;
    const auto report = run_flow(*topology_, spec);
    EXPECT_TRUE(report.problems.empty()) << report.problems.front();
    EXPECT_EQ(report.orig_sent.packets, 40U);
    EXPECT_EQ(report.orig_sent.payload, 30U * 67 + 10 * 20);
    EXPECT_EQ(report.reply_sent.packets, 25U);
    auto client = counters("client");
    auto server = counters("server");
    EXPECT_EQ(client["udp_out"], as_counter(report.orig_sent));
    EXPECT_EQ(server["udp_in"], as_counter(report.orig_sent));
    EXPECT_EQ(server["udp_out"], as_counter(report.reply_sent));
    EXPECT_EQ(client["udp_in"], as_counter(report.reply_sent));
    EXPECT_EQ(report.reply_received, report.reply_sent);
    EXPECT_EQ(report.client_view.source,
              address(std::string(GetParam()) == "v4" ? "198.18.1.1" : "2001:db8:1::1"));
    EXPECT_EQ(report.server_view, report.client_view) << "no NAT in between";
}

TEST_P(TrafficTest, TcpReportsMatchTheHooksExactly) {
    auto spec = flow(Protocol::tcp);
    spec.send = {{10, 430}};
    spec.reply = {{4, 1050}};
    const auto report = run_flow(*topology_, spec);
    EXPECT_TRUE(report.problems.empty()) << report.problems.front();
    EXPECT_EQ(report.orig_sent.payload, 4300U);
    EXPECT_EQ(report.reply_sent.payload, 4200U);
    auto client = counters("client");
    auto server = counters("server");
    EXPECT_EQ(client["tcp_out"], as_counter(report.orig_sent));
    EXPECT_EQ(server["tcp_in"], as_counter(report.orig_sent));
    EXPECT_EQ(server["tcp_out"], as_counter(report.reply_sent));
    EXPECT_EQ(client["tcp_in"], as_counter(report.reply_sent));
}

TEST_P(TrafficTest, PingsAreAnsweredAndCounted) {
    auto spec = flow(Protocol::icmp);
    spec.send = {{5, 56}};
    spec.rate = 200;
    const auto report = run_flow(*topology_, spec);
    EXPECT_TRUE(report.problems.empty()) << report.problems.front();
    EXPECT_EQ(report.reply_received.packets, 5U);
    auto client = counters("client");
    EXPECT_EQ(client["icmp_out"], as_counter(report.orig_sent));
    EXPECT_EQ(client["icmp_in"], as_counter(report.reply_sent));
    EXPECT_EQ(client["icmp_out"].bytes, 5U * l3_length(report.family, 64));
}

TEST_P(TrafficTest, DatagramsLargerThanTheMtuFragmentOnTheWireOnly) {
    auto spec = flow(Protocol::udp);
    spec.send = {{3, 3000}};
    spec.reply = {{2, 2000}}; // the server's link has MTU 1400
    const auto report = run_flow(*topology_, spec);
    EXPECT_TRUE(report.problems.empty()) << report.problems.front();
    const int family = report.family;
    // Output and input hooks see whole datagrams (fragmentation is after output,
    // reassembly before input).
    auto client = counters("client");
    EXPECT_EQ(client["udp_out"], (CounterValue{3, 3 * l3_length(family, 3008)}));
    if (family == AF_INET) {
        EXPECT_EQ(client["udp_in"], (CounterValue{2, 2 * l3_length(family, 2008)}));
    } else {
        // IPv6 reassembles after the input hook (without conntrack): it counts fragments.
        EXPECT_EQ(client["udp_in"], as_counter(report.reply_wire));
    }
    const auto one = fragmented(family, 3008, 1500);
    EXPECT_EQ(report.orig_wire.packets, 3 * one.packets);
    EXPECT_EQ(report.orig_wire.bytes, 3 * one.bytes);
    EXPECT_EQ(report.orig_wire.packets, 9U);
    EXPECT_EQ(report.reply_wire.packets, 4U);
}

TEST_P(TrafficTest, CaptureSeesFragmentsOnTheWireAndRebuildsDatagrams) {
    LinkCapture capture(*topology_, {"client", "eth0"});
    auto udp = flow(Protocol::udp);
    udp.send = {{3, 3000}, {5, 67}};
    udp.reply = {{2, 2000}};
    const auto datagrams = run_flow(*topology_, udp);
    auto tcp = flow(Protocol::tcp);
    tcp.send = {{4, 500}};
    tcp.reply = {{3, 700}};
    const auto stream = run_flow(*topology_, tcp);
    auto ping = flow(Protocol::icmp);
    ping.send = {{3, 56}};
    const auto echo = run_flow(*topology_, ping);
    const auto captured = capture.finish();
    EXPECT_EQ(captured.drops, 0U);
    EXPECT_TRUE(captured.problems.empty()) << captured.problems.front();

    const int udp_number = ip_protocol_number(Protocol::udp, datagrams.family);
    const auto orig = captured.sum(udp_number, {datagrams.client_view});
    const auto reply = captured.sum(udp_number, {datagrams.client_view.reversed()});
    auto without_payload = [](Traffic traffic) { return traffic.payload = 0, traffic; };
    EXPECT_EQ(orig.wire, without_payload(datagrams.orig_wire));
    EXPECT_EQ(orig.datagrams, without_payload(datagrams.orig_sent));
    EXPECT_EQ(reply.wire, without_payload(datagrams.reply_wire));
    EXPECT_EQ(reply.datagrams, without_payload(datagrams.reply_sent));

    const int tcp_number = ip_protocol_number(Protocol::tcp, stream.family);
    EXPECT_EQ(captured.sum(tcp_number, {stream.client_view}).wire,
              without_payload(stream.orig_sent));
    EXPECT_EQ(captured.sum(tcp_number, {stream.client_view.reversed()}).wire,
              without_payload(stream.reply_sent));

    const int icmp_number = ip_protocol_number(Protocol::icmp, echo.family);
    EXPECT_EQ(captured.sum(icmp_number, {echo.client_view}).wire, without_payload(echo.orig_sent));
    EXPECT_EQ(captured.sum(icmp_number, {echo.client_view.reversed()}).wire.packets, 3U);
}

INSTANTIATE_TEST_SUITE_P(BothFamilies, TrafficTest, ::testing::Values("v4", "v6"));

} // namespace
} // namespace acctc::testbench
