// IPv4/IPv6 addresses and prefixes, and the guard that keeps the bench inside the ranges
// reserved for testing: 198.18.0.0/15 (RFC 2544) and 2001:db8::/32 (RFC 3849).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctc::testbench {

struct IpAddress {
    int family = 0; // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};

    static std::optional<IpAddress> parse(std::string_view text);
    std::size_t size() const; // 4 or 16
    std::string to_string() const;
    bool is_v4() const;
    auto operator<=>(const IpAddress&) const = default;
};

struct IpPrefix {
    IpAddress address;
    unsigned length = 0;

    // "198.18.1.1/24", "2001:db8::1/64"; without "/N" the full length.
    static std::optional<IpPrefix> parse(std::string_view text);
    std::string to_string() const;
    bool contains(const IpAddress& other) const;
    auto operator<=>(const IpPrefix&) const = default;
};

// True for 198.18.0.0/15 and 2001:db8::/32 (whole prefixes must lie inside too).
bool is_test_address(const IpAddress& address);
bool is_test_prefix(const IpPrefix& prefix);

// Throws std::invalid_argument naming `what` unless the address is in the test ranges.
void require_test_address(const IpAddress& address, const std::string& what);

} // namespace acctc::testbench
