#include "acctc/testbench/traffic.hpp"

#include "peer_report.hpp"

namespace acctc::testbench {
namespace {

constexpr auto ready_timeout = std::chrono::seconds(5);
constexpr auto finish_timeout = std::chrono::seconds(15);

// How long a client may take: its packets at the flow's rate, the reply wait, and slack.
std::chrono::milliseconds client_timeout(const FlowSpec& flow) {
    std::uint64_t packets = packet_sizes(flow.send).size() + packet_sizes(flow.reply).size();
    const std::uint64_t paced_ms = flow.rate == 0 ? 0 : packets * 1000 / flow.rate;
    return std::chrono::milliseconds(paced_ms + 15000) + flow.reply_wait;
}

// The peer's report line, or a report carrying only the problem.
SideReport collect(ChildProcess& peer, std::chrono::milliseconds timeout) {
    SideReport report;
    const auto line = peer.channel().receive(timeout);
    if (!line) {
        report.problems.push_back(peer.label() + " sent no report");
        return report;
    }
    try {
        report = decode_report(*line);
    } catch (const std::exception& error) {
        report.problems.push_back(peer.label() + ": " + error.what());
    }
    return report;
}

ChildProcess::Body role(void (*run)(const FlowSpec&, ControlChannel&), const FlowSpec& flow) {
    return [run, flow](ControlChannel& channel) { run(flow, channel); };
}

} // namespace

FlowReport run_flow(const Topology& topology, const FlowSpec& flow) {
    FlowReport result;
    result.name = flow.name;
    result.protocol = flow.protocol;
    result.family = flow.server_address.family;
    result.ip_protocol = ip_protocol_number(flow.protocol, result.family, flow.raw_protocol);

    std::optional<ChildProcess> server;
    if (flow.protocol != Protocol::icmp) {
        server.emplace(ChildProcess::spawn(
            flow.name + " server", topology.netns(flow.server_node), flow.server_identity,
            role(flow.protocol == Protocol::tcp ? run_tcp_server : run_datagram_server, flow)));
        const auto ready = server->channel().receive(ready_timeout);
        if (!ready || *ready != "ready") {
            result.problems.push_back(flow.name +
                                      " server did not start: " + ready.value_or("no answer"));
            return result;
        }
    }
    auto(*client_role)(const FlowSpec&, ControlChannel&) = run_ping_client;
    if (flow.protocol == Protocol::udp || flow.protocol == Protocol::raw) {
        client_role = run_datagram_client;
    } else if (flow.protocol == Protocol::tcp) {
        client_role = run_tcp_client;
    }
    auto client = ChildProcess::spawn(flow.name + " client", topology.netns(flow.client_node),
                                      flow.client_identity, role(client_role, flow));
    const auto client_side = collect(client, client_timeout(flow));
    client.wait(std::chrono::seconds(2));
    result.client_view = client_side.view;
    result.server_view = client_side.view;
    result.orig_sent = client_side.sent;
    result.orig_wire = client_side.wire;
    result.reply_received = client_side.received;
    result.problems = client_side.problems;
    if (server) {
        server->channel().send("finish");
        const auto server_side = collect(*server, finish_timeout);
        server->wait(std::chrono::seconds(2));
        result.server_view = server_side.view;
        result.orig_received = server_side.received;
        result.reply_sent = server_side.sent;
        result.reply_wire = server_side.wire;
        result.problems.insert(result.problems.end(), server_side.problems.begin(),
                               server_side.problems.end());
    } else {
        // The target's kernel answered; what reached the client is all that is known.
        result.reply_sent = client_side.received;
        result.reply_wire = client_side.received;
    }
    return result;
}

} // namespace acctc::testbench
