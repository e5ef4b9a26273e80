// UDP peers: the client sends its bursts, the server answers the first sender it hears with
// its own bursts (so replies pass a NAT the way Skype's media does), both at the flow's rate.
#include "peer_report.hpp"
#include "socket_address.hpp"

#include <cerrno>
#include <poll.h>
#include <vector>

namespace acctc::testbench {
namespace {

constexpr std::uint64_t udp_header = 8;
constexpr auto peer_deadline = std::chrono::seconds(120);

void count_datagram(Traffic& traffic, int family, std::size_t payload) {
    traffic.packets += 1;
    traffic.bytes += l3_length(family, udp_header + payload);
    traffic.payload += payload;
}

void count_sent(SideReport& report, int family, std::size_t payload, unsigned mtu) {
    count_datagram(report.sent, family, payload);
    report.wire += fragmented(family, udp_header + payload, mtu);
    report.wire.payload += payload;
}

int milliseconds_until(std::chrono::steady_clock::time_point when) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        when - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
}

// Reads every queued datagram; returns the sender of the last one.
std::optional<SocketAddress> drain(int fd, int family, std::vector<char>& buffer,
                                   Traffic& received) {
    std::optional<SocketAddress> sender;
    for (;;) {
        SocketAddress from;
        from.length = sizeof from.storage;
        const auto length =
            ::recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT, from.raw(), &from.length);
        if (length < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) {
                return sender;
            }
            throw_errno("recvfrom");
        }
        count_datagram(received, family, static_cast<std::size_t>(length));
        sender = from;
    }
}

} // namespace

void run_udp_server(const FlowSpec& flow, ControlChannel& channel) {
    const int family = flow.server_address.family;
    auto socket = open_socket(family, SOCK_DGRAM, 0);
    bind_to(socket.get(), SocketAddress::from(flow.server_address, flow.server_port));
    allow_fragmentation(socket.get(), family);
    channel.send("ready");

    const auto replies = packet_sizes(flow.reply);
    std::vector<char> buffer(65536);
    SideReport report;
    std::optional<SocketAddress> client;
    std::optional<Pacer> pacer;
    unsigned mtu = 0;
    std::size_t next_reply = 0;
    bool finish = false;
    const auto deadline = std::chrono::steady_clock::now() + peer_deadline;
    while (!finish) {
        if (std::chrono::steady_clock::now() > deadline) {
            report.problems.push_back("udp server gave up after its deadline");
            break;
        }
        int timeout = 100;
        if (pacer && next_reply < replies.size()) {
            timeout = std::min(timeout, milliseconds_until(pacer->due(next_reply)));
        }
        pollfd events[2] = {{socket.get(), POLLIN, 0}, {channel.read_fd(), POLLIN, 0}};
        if (::poll(events, 2, timeout) < 0 && errno != EINTR) {
            throw_errno("poll");
        }
        if (events[1].revents != 0) {
            const auto command = channel.receive(std::chrono::milliseconds(0));
            finish = !command || *command == "finish";
        }
        if (auto sender = drain(socket.get(), family, buffer, report.received); sender && !client) {
            client = sender;
            pacer.emplace(flow.rate);
            mtu = route_to(client->address()).mtu;
        }
        while (pacer && next_reply < replies.size() &&
               std::chrono::steady_clock::now() >= pacer->due(next_reply)) {
            const auto size = replies[next_reply];
            if (::sendto(socket.get(), buffer.data(), size, 0, client->raw(), client->length) !=
                static_cast<ssize_t>(size)) {
                throw_errno("udp reply");
            }
            count_sent(report, family, size, mtu);
            ++next_reply;
        }
    }
    drain(socket.get(), family, buffer, report.received);
    if (next_reply < replies.size()) {
        report.problems.push_back("udp server sent " + std::to_string(next_reply) + " of " +
                                  std::to_string(replies.size()) + " replies");
    }
    if (client) {
        report.view = {client->address(), client->port(), flow.server_address, flow.server_port};
    }
    channel.send(encode_report(report));
}

void run_udp_client(const FlowSpec& flow, ControlChannel& channel) {
    const int family = flow.server_address.family;
    const auto route = route_to(flow.server_address);
    auto socket = open_socket(family, SOCK_DGRAM, 0);
    // Unconnected on purpose: an ICMP error from a blocked server must not fail later sends.
    bind_to(socket.get(),
            SocketAddress::from(flow.client_address.value_or(route.source), flow.client_port));
    allow_fragmentation(socket.get(), family);
    const auto server = SocketAddress::from(flow.server_address, flow.server_port);
    const auto sizes = packet_sizes(flow.send);
    const auto expected_replies = packet_sizes(flow.reply).size();
    std::vector<char> buffer(65536);
    SideReport report;
    Pacer pacer(flow.rate);
    for (std::size_t index = 0; index < sizes.size(); ++index) {
        for (;;) {
            const int timeout = milliseconds_until(pacer.due(index));
            pollfd readable{socket.get(), POLLIN, 0};
            if (timeout == 0 || ::poll(&readable, 1, timeout) == 0) {
                break;
            }
            drain(socket.get(), family, buffer, report.received);
        }
        if (::sendto(socket.get(), buffer.data(), sizes[index], 0, server.raw(), server.length) !=
            static_cast<ssize_t>(sizes[index])) {
            throw_errno("udp send");
        }
        count_sent(report, family, sizes[index], route.mtu);
    }
    const auto give_up = std::chrono::steady_clock::now() + flow.reply_wait;
    while (report.received.packets < expected_replies) {
        const int timeout = milliseconds_until(give_up);
        pollfd readable{socket.get(), POLLIN, 0};
        if (timeout == 0 || ::poll(&readable, 1, timeout) == 0) {
            break;
        }
        drain(socket.get(), family, buffer, report.received);
    }
    const auto local = local_address(socket.get());
    report.view = {local.address(), local.port(), flow.server_address, flow.server_port};
    channel.send(encode_report(report));
}

} // namespace acctc::testbench
