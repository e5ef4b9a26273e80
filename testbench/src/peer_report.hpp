// What one peer process reports about its side of a flow, sent as one JSON line
// "report {...}" over its control channel.
#pragma once

#include "acctc/testbench/flow.hpp"

#include <string>
#include <vector>

namespace acctc::testbench {

struct SideReport {
    FlowTuple view; // client -> server as this side sees the addresses
    Traffic sent;
    Traffic received;
    Traffic wire; // `sent` as fragments on this side's first link
    std::vector<std::string> problems;
};

std::string encode_report(const SideReport& report);
// Parses "report {...}"; throws std::runtime_error with the peer's own error line otherwise.
SideReport decode_report(const std::string& line);

// The peer roles; each runs inside its child process.
// UDP and raw IP datagrams.
void run_datagram_server(const FlowSpec& flow, ControlChannel& channel);
void run_datagram_client(const FlowSpec& flow, ControlChannel& channel);
void run_tcp_server(const FlowSpec& flow, ControlChannel& channel);
void run_tcp_client(const FlowSpec& flow, ControlChannel& channel);
void run_ping_client(const FlowSpec& flow, ControlChannel& channel);

// The route from inside the peer's namespace: the source address it picks and its MTU.
struct RouteInfo {
    IpAddress source;
    unsigned mtu = 0;
};
RouteInfo route_to(const IpAddress& destination);

// Bursts flattened: the payload size of packet number `index`.
std::vector<unsigned> packet_sizes(const std::vector<Burst>& bursts);

} // namespace acctc::testbench
