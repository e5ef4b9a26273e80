#include "socket_address.hpp"

#include <cstring>
#include <netinet/in.h>
#include <thread>

namespace acctc::testbench {

SocketAddress SocketAddress::from(const IpAddress& address, std::uint16_t port) {
    SocketAddress result;
    if (address.is_v4()) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        std::memcpy(&v4->sin_addr, address.bytes.data(), 4);
        result.length = sizeof(sockaddr_in);
    } else {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        std::memcpy(&v6->sin6_addr, address.bytes.data(), 16);
        result.length = sizeof(sockaddr_in6);
    }
    return result;
}

IpAddress SocketAddress::address() const {
    IpAddress result;
    result.family = storage.ss_family;
    if (storage.ss_family == AF_INET) {
        std::memcpy(result.bytes.data(), &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr,
                    4);
    } else {
        std::memcpy(result.bytes.data(),
                    &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, 16);
    }
    return result;
}

std::uint16_t SocketAddress::port() const {
    return ntohs(storage.ss_family == AF_INET
                     ? reinterpret_cast<const sockaddr_in*>(&storage)->sin_port
                     : reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
}

UniqueFd open_socket(int family, int type, int protocol) {
    UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, protocol));
    if (!fd.valid()) {
        throw_errno("socket");
    }
    return fd;
}

void bind_to(int fd, const SocketAddress& address) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, address.raw(), address.length) != 0) {
        throw_errno("bind " + address.address().to_string() + " port " +
                    std::to_string(address.port()));
    }
}

SocketAddress local_address(int fd) {
    SocketAddress result;
    result.length = sizeof result.storage;
    if (::getsockname(fd, result.raw(), &result.length) != 0) {
        throw_errno("getsockname");
    }
    return result;
}

unsigned connected_mtu(int fd, int family) {
    int mtu = 0;
    socklen_t length = sizeof mtu;
    const bool v4 = family == AF_INET;
    if (::getsockopt(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU : IPV6_MTU, &mtu, &length) !=
        0) {
        throw_errno("route mtu");
    }
    return static_cast<unsigned>(mtu);
}

void allow_fragmentation(int fd, int family) {
    const int dont = family == AF_INET ? IP_PMTUDISC_DONT : IPV6_PMTUDISC_DONT;
    if (::setsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                     family == AF_INET ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER, &dont,
                     sizeof dont) != 0) {
        throw_errno("allow fragmentation");
    }
}

std::chrono::steady_clock::time_point Pacer::due(std::uint64_t index) const {
    if (rate_ == 0) {
        return start_;
    }
    return start_ + std::chrono::nanoseconds(index * 1'000'000'000ULL / rate_);
}

void Pacer::wait_for(std::uint64_t index) {
    if (rate_ != 0) {
        std::this_thread::sleep_until(due(index));
    }
}

} // namespace acctc::testbench
