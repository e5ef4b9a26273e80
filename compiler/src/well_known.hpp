// Fixed name tables the language accepts: IP protocols and ICMP/ICMPv6 types. Built in (not
// read from /etc/protocols) so that a policy means the same thing on every host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctc {

std::optional<std::uint8_t> protocol_number(std::string_view name);
// The name nft and iptables print for a protocol number, or its decimal form.
std::string protocol_name(std::uint8_t number);
bool protocol_has_ports(std::uint8_t number);

std::optional<std::uint8_t> icmp_type_number(std::string_view name, bool v6);
std::string icmp_type_name(std::uint8_t number, bool v6);

// Words nft's parser takes as keywords where an object is declared (`counter icmp { }` fails,
// quoted too), so they cannot name a counter.
bool is_nft_keyword(std::string_view name);

inline constexpr std::uint8_t proto_icmp = 1;
inline constexpr std::uint8_t proto_tcp = 6;
inline constexpr std::uint8_t proto_udp = 17;
inline constexpr std::uint8_t proto_icmpv6 = 58;

} // namespace acctc
