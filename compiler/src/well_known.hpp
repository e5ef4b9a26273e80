// Fixed name tables the language accepts: IP protocols and ICMP/ICMPv6 types. Built in (not
// read from /etc/protocols) so that a policy means the same thing on every host.
#pragma once

#include "intervals.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctc {

std::optional<std::uint8_t> protocol_number(std::string_view name);
// The name nft and iptables print for a protocol number, or its decimal form.
std::string protocol_name(std::uint8_t number);
bool protocol_has_ports(std::uint8_t number);
// IPv6 extension headers that nft's `meta l4proto` and ip6tables' `-p` look past to the
// upper-layer protocol, so they are matched by their presence instead: hop-by-hop (0), routing
// (43), fragment (44), destination options (60). AH (51) is not one: nft stops at it (ip6tables
// legacy does not, see emit_iptables.cpp); ESP, mobility, HIP and shim6 are upper layers to both.
const IntervalSet& skipped_ipv6_headers();
// The name of such a header in nft's `exthdr` and as an ip6tables match module (hbh, rt, ...).
std::string_view skipped_ipv6_header_name(std::uint8_t number);

// The IP packet lengths a family can have: at least its header, 20 (IPv4) or 40 (IPv6) bytes.
inline IntervalSet possible_ip_lengths(bool ipv6) {
    return IntervalSet::range(ipv6 ? 40 : 20, 65535);
}

std::optional<std::uint8_t> icmp_type_number(std::string_view name, bool v6);
std::string icmp_type_name(std::uint8_t number, bool v6);

// Words nft's parser takes as keywords where an object is declared (`counter icmp { }` fails,
// quoted too), so they cannot name a counter.
bool is_nft_keyword(std::string_view name);

inline constexpr std::uint8_t proto_icmp = 1;
inline constexpr std::uint8_t proto_tcp = 6;
inline constexpr std::uint8_t proto_udp = 17;
inline constexpr std::uint8_t proto_ah = 51;
inline constexpr std::uint8_t proto_icmpv6 = 58;

} // namespace acctc
