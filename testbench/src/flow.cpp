#include "acctc/testbench/flow.hpp"

#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

namespace acctc::testbench {

std::string to_string(Protocol protocol) {
    switch (protocol) {
    case Protocol::udp:
        return "udp";
    case Protocol::tcp:
        return "tcp";
    case Protocol::icmp:
        return "icmp";
    case Protocol::raw:
        return "raw";
    }
    return "?";
}

int ip_protocol_number(Protocol protocol, int family, int raw_protocol) {
    switch (protocol) {
    case Protocol::udp:
        return IPPROTO_UDP;
    case Protocol::tcp:
        return IPPROTO_TCP;
    case Protocol::icmp:
        return family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
    case Protocol::raw:
        return raw_protocol;
    }
    return 0;
}

bool ipv6_extension_header(int protocol) {
    return protocol == IPPROTO_HOPOPTS || protocol == IPPROTO_ROUTING ||
           protocol == IPPROTO_DSTOPTS;
}

unsigned raw_header_length(int family, int protocol) {
    if (family != AF_INET6) {
        return 0;
    }
    if (ipv6_extension_header(protocol)) {
        return 8;
    }
    return protocol == IPPROTO_AH ? 16 : 0;
}

Traffic& Traffic::operator+=(const Traffic& other) {
    packets += other.packets;
    bytes += other.bytes;
    payload += other.payload;
    return *this;
}

void to_json(nlohmann::json& json, const Traffic& traffic) {
    json = {{"packets", traffic.packets}, {"bytes", traffic.bytes}, {"payload", traffic.payload}};
}

void from_json(const nlohmann::json& json, Traffic& traffic) {
    traffic.packets = json.at("packets").get<std::uint64_t>();
    traffic.bytes = json.at("bytes").get<std::uint64_t>();
    traffic.payload = json.at("payload").get<std::uint64_t>();
}

void to_json(nlohmann::json& json, const FlowTuple& tuple) {
    json = {{"source", tuple.source.to_string()},
            {"source_port", tuple.source_port},
            {"destination", tuple.destination.to_string()},
            {"destination_port", tuple.destination_port}};
}

void from_json(const nlohmann::json& json, FlowTuple& tuple) {
    // An endpoint that never saw its peer reports empty addresses.
    tuple.source = IpAddress::parse(json.at("source").get<std::string>()).value_or(IpAddress{});
    tuple.source_port = json.at("source_port").get<std::uint16_t>();
    tuple.destination =
        IpAddress::parse(json.at("destination").get<std::string>()).value_or(IpAddress{});
    tuple.destination_port = json.at("destination_port").get<std::uint16_t>();
}

std::uint64_t l3_length(int family, std::uint64_t transport_length) {
    return (family == AF_INET ? 20 : 40) + transport_length;
}

Traffic fragmented(int family, std::uint64_t transport_length, unsigned mtu) {
    if (l3_length(family, transport_length) <= mtu) {
        return {1, l3_length(family, transport_length), 0};
    }
    // Each fragment repeats the IP header (IPv6 adds an 8-byte fragment header) and carries
    // a multiple of 8 bytes except the last.
    const std::uint64_t header = family == AF_INET ? 20 : 48;
    const std::uint64_t per_fragment = (mtu - header) & ~std::uint64_t{7};
    const std::uint64_t count = (transport_length + per_fragment - 1) / per_fragment;
    return {count, transport_length + header * count, 0};
}

} // namespace acctc::testbench
