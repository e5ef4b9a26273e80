// sockaddr conversions and the small socket chores every peer repeats.
#pragma once

#include "acctc/testbench/ip_address.hpp"
#include "acctc/testbench/unique_fd.hpp"

#include <chrono>
#include <cstdint>
#include <sys/socket.h>

namespace acctc::testbench {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    static SocketAddress from(const IpAddress& address, std::uint16_t port);
    IpAddress address() const;
    std::uint16_t port() const;
    sockaddr* raw() { return reinterpret_cast<sockaddr*>(&storage); }
    const sockaddr* raw() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

UniqueFd open_socket(int family, int type, int protocol);
void bind_to(int fd, const SocketAddress& address);
SocketAddress local_address(int fd);
// The route MTU of a connected socket (IP_MTU / IPV6_MTU).
unsigned connected_mtu(int fd, int family);
// Large datagrams are fragmented by the kernel instead of refused with EMSGSIZE.
void allow_fragmentation(int fd, int family);

// Paces packets at `rate` per second from the first call; rate 0 never waits.
class Pacer {
  public:
    explicit Pacer(unsigned rate) : rate_(rate) {}
    // Sleeps until packet number `index` is due.
    void wait_for(std::uint64_t index);
    std::chrono::steady_clock::time_point due(std::uint64_t index) const;

  private:
    unsigned rate_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace acctc::testbench
