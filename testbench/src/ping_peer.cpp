// ICMP echo from an unprivileged ping socket (net.ipv4.ping_group_range covers every group in
// the bench's namespaces). The echo id is the socket's port; the target's kernel answers.
#include "peer_report.hpp"
#include "socket_address.hpp"

#include <cerrno>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <poll.h>

namespace acctc::testbench {
namespace {

constexpr std::uint64_t icmp_header = 8;

int milliseconds_until(std::chrono::steady_clock::time_point when) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        when - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
}

void drain_replies(int fd, int family, std::vector<char>& buffer, Traffic& received) {
    for (;;) {
        const auto length = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (length < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EHOSTUNREACH ||
                errno == ECONNREFUSED) {
                return;
            }
            throw_errno("ping recv");
        }
        // A ping socket hands over the ICMP header and payload, without the IP header.
        received.packets += 1;
        received.bytes += l3_length(family, static_cast<std::uint64_t>(length));
        received.payload += static_cast<std::uint64_t>(length) - icmp_header;
    }
}

} // namespace

void run_ping_client(const FlowSpec& flow, ControlChannel& channel) {
    const int family = flow.server_address.family;
    const auto route = route_to(flow.server_address);
    auto socket = open_socket(family, SOCK_DGRAM, ip_protocol_number(Protocol::icmp, family));
    bind_to(socket.get(), SocketAddress::from(flow.client_address.value_or(route.source), 0));
    allow_fragmentation(socket.get(), family);
    const auto target = SocketAddress::from(flow.server_address, 0);
    const auto sizes = packet_sizes(flow.send);
    std::vector<char> buffer(65536 + 64);
    SideReport report;
    Pacer pacer(flow.rate);
    for (std::size_t index = 0; index < sizes.size(); ++index) {
        pacer.wait_for(index);
        drain_replies(socket.get(), family, buffer, report.received);
        const std::size_t length = icmp_header + sizes[index];
        std::fill(buffer.begin(), buffer.begin() + static_cast<long>(length), 0);
        buffer[0] = static_cast<char>(family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST);
        buffer[7] = static_cast<char>(index & 0xff); // sequence (low byte); id set by the kernel
        buffer[6] = static_cast<char>((index >> 8) & 0xff);
        if (::sendto(socket.get(), buffer.data(), length, 0, target.raw(), target.length) !=
            static_cast<ssize_t>(length)) {
            throw_errno("ping send");
        }
        report.sent.packets += 1;
        report.sent.bytes += l3_length(family, length);
        report.sent.payload += sizes[index];
        report.wire += fragmented(family, length, route.mtu);
        report.wire.payload += sizes[index];
    }
    const auto give_up = std::chrono::steady_clock::now() + flow.reply_wait;
    while (report.received.packets < sizes.size()) {
        pollfd readable{socket.get(), POLLIN, 0};
        const int timeout = milliseconds_until(give_up);
        if (timeout == 0 || ::poll(&readable, 1, timeout) == 0) {
            break;
        }
        drain_replies(socket.get(), family, buffer, report.received);
    }
    const auto local = local_address(socket.get());
    report.view = {local.address(), local.port(), flow.server_address, 0};
    channel.send(encode_report(report));
}

} // namespace acctc::testbench
