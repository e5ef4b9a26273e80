#include "acctc/testbench/ip_address.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <stdexcept>
#include <sys/socket.h>

namespace acctc::testbench {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    const std::string copy(text);
    IpAddress address;
    if (::inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
        address.family = AF_INET;
        return address;
    }
    if (::inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
        address.family = AF_INET6;
        return address;
    }
    return std::nullopt;
}

std::size_t IpAddress::size() const {
    return family == AF_INET ? 4 : 16;
}

bool IpAddress::is_v4() const {
    return family == AF_INET;
}

std::string IpAddress::to_string() const {
    if (family == 0) {
        return {};
    }
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, bytes.data(), text, sizeof text);
    return text;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) {
        return std::nullopt;
    }
    IpPrefix prefix{*address, static_cast<unsigned>(address->size() * 8)};
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        unsigned length = 0;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
        if (error != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
            length > prefix.length) {
            return std::nullopt;
        }
        prefix.length = length;
    }
    return prefix;
}

std::string IpPrefix::to_string() const {
    return address.to_string() + "/" + std::to_string(length);
}

bool IpPrefix::contains(const IpAddress& other) const {
    if (other.family != address.family) {
        return false;
    }
    for (unsigned bit = 0; bit < length; ++bit) {
        const unsigned mask = 0x80U >> (bit % 8);
        if ((address.bytes[bit / 8] & mask) != (other.bytes[bit / 8] & mask)) {
            return false;
        }
    }
    return true;
}

namespace {
const IpPrefix test_v4 = *IpPrefix::parse("198.18.0.0/15");
const IpPrefix test_v6 = *IpPrefix::parse("2001:db8::/32");
} // namespace

bool is_test_address(const IpAddress& address) {
    return test_v4.contains(address) || test_v6.contains(address);
}

bool is_test_prefix(const IpPrefix& prefix) {
    const auto& range = prefix.address.is_v4() ? test_v4 : test_v6;
    return range.contains(prefix.address) && prefix.length >= range.length;
}

void require_test_address(const IpAddress& address, const std::string& what) {
    if (!is_test_address(address)) {
        throw std::invalid_argument(what + " " + address.to_string() +
                                    " is outside the test ranges 198.18.0.0/15 and "
                                    "2001:db8::/32");
    }
}

} // namespace acctc::testbench
