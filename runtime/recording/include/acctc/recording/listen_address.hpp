// The exporter's ADDR:PORT: numeric IPv4 or bracketed IPv6, so no resolver runs at boot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace acctc::recording {

// 9739 is the exporter's default; loopback only, unless the user asks otherwise.
inline constexpr std::uint16_t default_metrics_port = 9739;
inline constexpr const char* default_listen_address = "127.0.0.1:9739";

struct ListenAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const { return storage.ss_family; }
    std::uint16_t port() const;
    std::string to_string() const; // 127.0.0.1:9739 or [::1]:9739
};

// Accepts "127.0.0.1:9739", "[::1]:9739", "0.0.0.0:0" (port 0: the kernel picks one).
// Throws std::invalid_argument with the reason.
ListenAddress parse_listen_address(std::string_view text);

// The address a bound socket actually has (with the port the kernel picked).
ListenAddress local_address_of(int fd);

} // namespace acctc::recording
