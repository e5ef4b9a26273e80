// Datagram peers, UDP and raw IP (any protocol number, no ports): the client sends its bursts,
// the server answers the first sender it hears with its own bursts (so replies pass a NAT the
// way Skype's media does), both at the flow's rate.
#include "peer_report.hpp"
#include "socket_address.hpp"

#include <algorithm>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/uio.h>
#include <vector>

namespace acctc::testbench {
namespace {

constexpr auto peer_deadline = std::chrono::seconds(120);

// What differs between UDP and raw IP datagrams.
struct DatagramKind {
    int family = AF_INET;
    int type = SOCK_DGRAM;
    int protocol = 0; // the socket's
    // Bytes in front of the payload: UDP's 8, the header of a raw IPv6 flow of an extension
    // header or AH (raw_header_length), none for other raw flows.
    std::uint64_t header = 8;
    // Of these, the bytes the peer writes (and reads) itself: the kernel writes UDP's.
    std::size_t prefix = 0;
    // Hop-by-hop options: a raw socket cannot send or receive protocol 0, so the header is a
    // sticky IPV6_HOPOPTS on a "no next header" (59) socket, which receives what follows it.
    bool hop_by_hop = false;

    DatagramKind(const FlowSpec& flow)
        : family(flow.server_address.family),
          type(flow.protocol == Protocol::raw ? SOCK_RAW : SOCK_DGRAM),
          protocol(flow.protocol == Protocol::raw ? flow.raw_protocol : 0),
          header(flow.protocol == Protocol::raw ? raw_header_length(family, flow.raw_protocol) : 8),
          prefix(flow.protocol == Protocol::raw ? header : 0),
          hop_by_hop(flow.protocol == Protocol::raw && family == AF_INET6 &&
                     flow.raw_protocol == IPPROTO_HOPOPTS) {
        if (hop_by_hop) {
            protocol = IPPROTO_NONE;
            prefix = 0;
        }
    }
    // Raw sockets have no ports.
    std::uint16_t port(std::uint16_t requested) const { return type == SOCK_RAW ? 0 : requested; }
    // An IPv4 raw socket hands over the IP header too, an IPv6 one the flow's own header.
    std::size_t payload(const std::vector<char>& buffer, std::size_t length) const {
        if (type != SOCK_RAW || length == 0) {
            return length;
        }
        if (family == AF_INET6) {
            return length - std::min(length, prefix);
        }
        return length - std::min<std::size_t>(length, (buffer[0] & 0x0fU) * 4U);
    }
};

// Every IPv6 header of the bench's raw flows says "no next header" and is as short as allowed:
// a routing header of type 253 (RFC 4727's experiment) with no segments left, which every node
// ignores; options headers holding one PadN option; AH with SPI 256, sequence number 1 and a
// 4-byte ICV (its length field counts 4-byte units minus 2). What follows is the payload, which
// RFC 8200 says to ignore after header 59.
std::vector<char> flow_header(int protocol) {
    switch (protocol) {
    case IPPROTO_HOPOPTS: // its next header is written by the kernel
    case IPPROTO_DSTOPTS:
        return {IPPROTO_NONE, 0, 1, 4, 0, 0, 0, 0};
    case IPPROTO_ROUTING:
        return {IPPROTO_NONE, 0, static_cast<char>(253), 0, 0, 0, 0, 0};
    case IPPROTO_AH:
        return {IPPROTO_NONE, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    default:
        return {};
    }
}

// A socket for the flow's datagrams, and the buffer it sends from: the flow's header, then zeros.
UniqueFd open_datagram_socket(const DatagramKind& kind, int raw_protocol, std::vector<char>& out) {
    auto socket = open_socket(kind.family, kind.type, kind.protocol);
    out.assign(65536, 0);
    if (kind.hop_by_hop) {
        const auto options = flow_header(IPPROTO_HOPOPTS);
        if (::setsockopt(socket.get(), IPPROTO_IPV6, IPV6_HOPOPTS, options.data(),
                         static_cast<socklen_t>(options.size())) != 0) {
            throw_errno("IPV6_HOPOPTS");
        }
        const int one = 1;
        if (::setsockopt(socket.get(), IPPROTO_IPV6, IPV6_RECVHOPOPTS, &one, sizeof one) != 0) {
            throw_errno("IPV6_RECVHOPOPTS");
        }
    } else if (kind.prefix != 0) {
        const auto header = flow_header(raw_protocol);
        std::copy(header.begin(), header.end(), out.begin());
    }
    return socket;
}

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

bool has_hop_by_hop(msghdr& message) {
    for (auto* control = CMSG_FIRSTHDR(&message); control != nullptr;
         control = CMSG_NXTHDR(&message, control)) {
        if (control->cmsg_level == IPPROTO_IPV6 && control->cmsg_type == IPV6_HOPOPTS) {
            return true;
        }
    }
    return false;
}

int milliseconds_until(std::chrono::steady_clock::time_point when) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        when - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
}

// Reads every queued datagram; returns the sender of the last one. A hop-by-hop flow's socket
// also receives other datagrams whose chain ends in "no next header": only those that came
// with a hop-by-hop header are counted.
std::optional<SocketAddress> drain(int fd, const DatagramKind& kind, std::vector<char>& buffer,
                                   Traffic& received) {
    std::optional<SocketAddress> sender;
    for (;;) {
        SocketAddress from;
        iovec data{buffer.data(), buffer.size()};
        alignas(cmsghdr) char control[1024];
        msghdr message{};
        message.msg_name = from.raw();
        message.msg_namelen = sizeof from.storage;
        message.msg_iov = &data;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const auto length = ::recvmsg(fd, &message, MSG_DONTWAIT);
        if (length < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) {
                return sender;
            }
            throw_errno("recvmsg");
        }
        from.length = message.msg_namelen;
        if (kind.hop_by_hop && !has_hop_by_hop(message)) {
            continue;
        }
        count_datagram(received, kind, kind.payload(buffer, static_cast<std::size_t>(length)));
        sender = from;
    }
}

} // namespace

void run_datagram_server(const FlowSpec& flow, ControlChannel& channel) {
    const DatagramKind kind(flow);
    std::vector<char> outgoing;
    auto socket = open_datagram_socket(kind, flow.raw_protocol, outgoing);
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
            if (::sendto(socket.get(), outgoing.data(), kind.prefix + size, 0, client->raw(),
                         client->length) != static_cast<ssize_t>(kind.prefix + size)) {
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
    std::vector<char> outgoing;
    auto socket = open_datagram_socket(kind, flow.raw_protocol, outgoing);
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
        if (::sendto(socket.get(), outgoing.data(), kind.prefix + sizes[index], 0, server.raw(),
                     server.length) != static_cast<ssize_t>(kind.prefix + sizes[index])) {
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
