// Datagram peers, UDP and raw IP (any protocol number, no ports): the client sends its bursts,
// the server answers the first sender it hears with its own bursts (so replies pass a NAT the
// way Skype's media does), both at the flow's rate.
#include "peer_report.hpp"
#include "socket_address.hpp"

#include <cerrno>
#include <poll.h>
#include <vector>

namespace acctc::testbench {
namespace {

constexpr auto peer_deadline = std::chrono::seconds(120);

// What differs between UDP and raw IP datagrams.
struct DatagramKind {
    int family = AF_INET;
    int type = SOCK_DGRAM;
    int protocol = 0;
    std::uint64_t header = 8; // transport header before the payload: UDP's 8, raw none

    DatagramKind(const FlowSpec& flow)
        : family(flow.server_address.family),
          type(flow.protocol == Protocol::raw ? SOCK_RAW : SOCK_DGRAM),
          protocol(flow.protocol == Protocol::raw ? flow.raw_protocol : 0),
          header(flow.protocol == Protocol::raw ? 0 : 8) {}
    // Raw sockets have no ports.
    std::uint16_t port(std::uint16_t requested) const { return type == SOCK_RAW ? 0 : requested; }
    // An IPv4 raw socket hands over the IP header too.
    std::size_t payload(const std::vector<char>& buffer, std::size_t length) const {
        if (type != SOCK_RAW || family != AF_INET || length == 0) {
            return length;
        }
        return length - std::min<std::size_t>(length, (buffer[0] & 0x0fU) * 4U);
    }
};

void count_datagram(Traffic& traffic, const DatagramKind& kind, std::size_t payload) {
    traffic.packets += 1;
    traffic.bytes += l3_length(kind.family, kind.header + payload);
    traffic.payload += payload;
}

void count_sent(SideReport& report, const DatagramKind& kind, std::size_t payload, unsigned mtu) {
    count_datagram(report.sent, kind, payload);
    report.wire += fragmented(kind.family, kind.header + payload, mtu);
    report.wire.payload += payload;
}

int milliseconds_until(std::chrono::steady_clock::time_point when) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        when - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
}

// Reads every queued datagram; returns the sender of the last one.
std::optional<SocketAddress> drain(int fd, const DatagramKind& kind, std::vector<char>& buffer,
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
        count_datagram(received, kind, kind.payload(buffer, static_cast<std::size_t>(length)));
        sender = from;
    }
}

} // namespace

void run_datagram_server(const FlowSpec& flow, ControlChannel& channel) {
    const DatagramKind kind(flow);
    auto socket = open_socket(kind.family, kind.type, kind.protocol);
    bind_to(socket.get(), SocketAddress::from(flow.server_address, kind.port(flow.server_port)));
    allow_fragmentation(socket.get(), kind.family);
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
        if (auto sender = drain(socket.get(), kind, buffer, report.received); sender && !client) {
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
            count_sent(report, kind, size, mtu);
            ++next_reply;
        }
    }
    drain(socket.get(), kind, buffer, report.received);
    if (next_reply < replies.size()) {
        report.problems.push_back("udp server sent " + std::to_string(next_reply) + " of " +
                                  std::to_string(replies.size()) + " replies");
    }
    if (client) {
        report.view = {client->address(), client->port(), flow.server_address,
                       kind.port(flow.server_port)};
    }
    channel.send(encode_report(report));
}

void run_datagram_client(const FlowSpec& flow, ControlChannel& channel) {
    const DatagramKind kind(flow);
    const auto route = route_to(flow.server_address);
    auto socket = open_socket(kind.family, kind.type, kind.protocol);
    // Unconnected on purpose: an ICMP error from a blocked server must not fail later sends.
    bind_to(socket.get(), SocketAddress::from(flow.client_address.value_or(route.source),
                                              kind.port(flow.client_port)));
    allow_fragmentation(socket.get(), kind.family);
    const auto server = SocketAddress::from(flow.server_address, kind.port(flow.server_port));
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
            drain(socket.get(), kind, buffer, report.received);
        }
        if (::sendto(socket.get(), buffer.data(), sizes[index], 0, server.raw(), server.length) !=
            static_cast<ssize_t>(sizes[index])) {
            throw_errno("udp send");
        }
        count_sent(report, kind, sizes[index], route.mtu);
    }
    const auto give_up = std::chrono::steady_clock::now() + flow.reply_wait;
    while (report.received.packets < expected_replies) {
        const int timeout = milliseconds_until(give_up);
        pollfd readable{socket.get(), POLLIN, 0};
        if (timeout == 0 || ::poll(&readable, 1, timeout) == 0) {
            break;
        }
        drain(socket.get(), kind, buffer, report.received);
    }
    const auto local = local_address(socket.get());
    report.view = {local.address(), local.port(), flow.server_address, kind.port(flow.server_port)};
    channel.send(encode_report(report));
}

} // namespace acctc::testbench
