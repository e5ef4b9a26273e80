// One unit of scenario traffic: a flow between a client and a server process (or the
// server's kernel, for ICMP echo), and the report its peers send back: what each side sent
// and received, at the L3 length nftables counts (IPv4 total length, IPv6 header + payload).
#pragma once

#include "acctc/testbench/ip_address.hpp"
#include "acctc/testbench/process.hpp"

#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace acctc::testbench {

// raw: datagrams of any IP protocol (GRE, a bare number) from raw sockets, no ports.
enum class Protocol { udp, tcp, icmp, raw };
std::string to_string(Protocol protocol);
// IPPROTO_ICMPV6 for IPv6 echo; `raw_protocol` for raw flows.
int ip_protocol_number(Protocol protocol, int family, int raw_protocol = 0);

// Hop-by-hop options (0), routing (43) and destination options (60): IPv6 only.
bool ipv6_extension_header(int protocol);
// The header a raw flow of `protocol` puts in front of its payload: on IPv6, 8 bytes for an
// extension header and 16 for AH (each saying "no next header", 59), so that the chain is
// well formed; none otherwise.
unsigned raw_header_length(int family, int protocol);

// `count` datagrams, echo requests or TCP writes of `size` payload bytes each.
struct Burst {
    unsigned count = 0;
    unsigned size = 0;
};

struct FlowSpec {
    std::string name;
    Protocol protocol = Protocol::udp;
    int raw_protocol = -1; // the IP protocol number of a raw flow; -1 when not given
    std::string client_node;
    Identity client_identity;
    std::optional<IpAddress> client_address; // source to bind; the route decides when empty
    std::uint16_t client_port = 0;           // 0: ephemeral
    std::string server_node;
    Identity server_identity;
    IpAddress server_address;
    std::uint16_t server_port = 0; // unused for ICMP
    std::vector<Burst> send;       // client -> server
    std::vector<Burst> reply;      // server -> client (UDP, TCP); ICMP replies come from the kernel
    unsigned rate = 0;             // packets (writes) per second each way; 0 = unpaced
    // How long the client waits after its last packet for replies still missing (replies
    // that a rule drops never come).
    std::chrono::milliseconds reply_wait{1000};
    // A rule is meant to stop this flow: a refused connection or missing replies are the
    // expected outcome, not a failure of the scenario.
    bool blocked = false;
};

struct Traffic {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;   // L3 length
    std::uint64_t payload = 0; // transport payload bytes
    Traffic& operator+=(const Traffic& other);
    bool operator==(const Traffic&) const = default;
};

// Source and destination as seen by one endpoint. For ICMP echo the client's echo id stands
// in as its port and the server's port is 0.
struct FlowTuple {
    IpAddress source;
    std::uint16_t source_port = 0;
    IpAddress destination;
    std::uint16_t destination_port = 0;
    FlowTuple reversed() const { return {destination, destination_port, source, source_port}; }
    auto operator<=>(const FlowTuple&) const = default;
};

struct FlowReport {
    std::string name;
    Protocol protocol = Protocol::udp;
    int ip_protocol = 0; // IPPROTO_* as the capture sees it
    int family = 0;
    FlowTuple client_view; // client local -> server
    FlowTuple server_view; // client as the server saw it -> server local (differs behind NAT)
    // "orig" is client -> server, "reply" server -> client; sent counts are what crossed the
    // sender's output hook, datagrams (not fragments) for UDP and ICMP.
    Traffic orig_sent;
    Traffic orig_received;
    Traffic reply_sent;
    Traffic reply_received;
    // The same datagrams as fragments on the sender's first link (its route MTU).
    Traffic orig_wire;
    Traffic reply_wire;
    std::vector<std::string> problems; // a peer failed, timed out, or lost packets
};

void to_json(nlohmann::json& json, const Traffic& traffic);
void from_json(const nlohmann::json& json, Traffic& traffic);
void to_json(nlohmann::json& json, const FlowTuple& tuple);
void from_json(const nlohmann::json& json, FlowTuple& tuple);

// L3 length of one unfragmented datagram with `transport_length` bytes after the IP header.
std::uint64_t l3_length(int family, std::uint64_t transport_length);
// The fragments of such a datagram through a link of `mtu`: packets and L3 bytes.
Traffic fragmented(int family, std::uint64_t transport_length, unsigned mtu);

} // namespace acctc::testbench
