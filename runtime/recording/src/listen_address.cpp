#include "acctc/recording/listen_address.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>
#include <system_error>

namespace acctc::recording {

std::uint16_t ListenAddress::port() const {
    if (family() == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string ListenAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
                    sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(port());
    }
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text,
                sizeof text);
    return std::string(text) + ":" + std::to_string(port());
}

ListenAddress parse_listen_address(std::string_view text) {
    const auto bad = [&](const std::string& why) {
        return std::invalid_argument("bad listen address '" + std::string(text) + "': " + why);
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || (!text.empty() && text.back() == ']')) {
        throw bad("expected ADDR:PORT, e.g. 127.0.0.1:" + std::to_string(default_metrics_port));
    }
    std::string host(text.substr(0, colon));
    const auto port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || error != std::errc{} || end != port_text.data() + port_text.size() ||
        port > 65535) {
        throw bad("the port must be a number from 0 to 65535");
    }
    ListenAddress address;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6->sin6_addr) != 1) {
            throw bad("not a numeric IPv6 address");
        }
        address.length = sizeof(sockaddr_in6);
        return address;
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) != 1) {
        throw bad("not a numeric IPv4 address (write IPv6 as [addr]:port)");
    }
    address.length = sizeof(sockaddr_in);
    return address;
}

ListenAddress local_address_of(int fd) {
    ListenAddress address;
    address.length = sizeof address.storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address.storage), &address.length) != 0) {
        throw std::system_error(errno, std::generic_category(), "getsockname");
    }
    return address;
}

} // namespace acctc::recording
