// TCP peers: the client connects, writes its bursts (TCP_NODELAY, one write per packet at the
// flow's rate) and half-closes; the server reads to the end, writes its bursts and closes.
// Each side's L3 packets and bytes come from the kernel's own TCP_INFO segment counters.
// Writes must not exceed the MSS: TCP always builds GSO packets, and a write larger than one
// segment crosses the output hook as one packet but the wire as several (offloads.scn writes
// more on purpose, with `merged` expectations).
#include "peer_report.hpp"
#include "socket_address.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>

namespace acctc::testbench {
namespace {

constexpr auto io_timeout = std::chrono::seconds(10);
constexpr auto close_timeout = std::chrono::seconds(3);
// Every namespace runs with tcp_timestamps, tcp_sack and tcp_window_scaling off (see
// topology.cpp), so a segment's TCP header is 20 bytes and a SYN's carries only MSS (+4).
constexpr std::uint64_t tcp_header = 20;
constexpr std::uint64_t syn_options = 4;
// TCP_CLOSE of the kernel's socket states (include/net/tcp_states.h, not exported to uapi).
constexpr std::uint8_t tcp_state_close = 7;

tcp_info read_tcp_info(int fd) {
    tcp_info info{};
    socklen_t length = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
        throw_errno("TCP_INFO");
    }
    return info;
}

void set_no_delay(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
    pollfd readable{fd, POLLIN, 0};
    return ::poll(&readable, 1, static_cast<int>(timeout.count())) > 0;
}

// Reads until EOF; false when the timeout passed first.
bool read_to_end(int fd, Traffic& received_payload) {
    std::vector<char> buffer(65536);
    const auto deadline = std::chrono::steady_clock::now() + io_timeout;
    for (;;) {
        if (!wait_readable(fd, std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()))) {
            return false;
        }
        const auto length = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (length < 0 && errno == EINTR) {
            continue;
        }
        if (length <= 0) {
            return length == 0;
        }
        received_payload.payload += static_cast<std::uint64_t>(length);
    }
}

void write_bursts(int fd, const std::vector<Burst>& bursts, unsigned rate) {
    const auto sizes = packet_sizes(bursts);
    std::vector<char> buffer(65536);
    Pacer pacer(rate);
    for (std::size_t index = 0; index < sizes.size(); ++index) {
        pacer.wait_for(index);
        std::size_t written = 0;
        while (written < sizes[index]) {
            const auto count = ::send(fd, buffer.data(), sizes[index] - written, MSG_NOSIGNAL);
            if (count < 0 && errno == EINTR) {
                continue;
            }
            if (count <= 0) {
                throw_errno("tcp send");
            }
            written += static_cast<std::size_t>(count);
        }
    }
}

// Polls TCP_INFO until the connection is fully closed, so the last ACK is in the counts.
void wait_closed(int fd, SideReport& report) {
    const auto deadline = std::chrono::steady_clock::now() + close_timeout;
    while (read_tcp_info(fd).tcpi_state != tcp_state_close) {
        if (std::chrono::steady_clock::now() > deadline) {
            report.problems.push_back("tcp connection did not close in time");
            return;
        }
        wait_readable(fd, std::chrono::milliseconds(10));
    }
}

// Segments and bytes from TCP_INFO; `syns_sent`/`syns_received` are the segments whose
// header carried the MSS option.
void fill_from_tcp_info(SideReport& report, int fd, int family, std::uint64_t syns_sent,
                        std::uint64_t syns_received, bool fin_received,
                        std::uint64_t uncounted_sent) {
    const auto info = read_tcp_info(fd);
    const std::uint64_t per_segment = l3_length(family, tcp_header);
    report.sent.packets = info.tcpi_segs_out + uncounted_sent;
    report.sent.payload = info.tcpi_bytes_sent;
    report.sent.bytes =
        report.sent.packets * per_segment + syns_sent * syn_options + info.tcpi_bytes_sent;
    report.received.packets = info.tcpi_segs_in;
    // bytes_received follows rcv_nxt, which the peer's FIN advanced by one.
    const std::uint64_t payload_received =
        info.tcpi_bytes_received - (info.tcpi_bytes_received > 0 && fin_received ? 1 : 0);
    report.received.payload = payload_received;
    report.received.bytes =
        report.received.packets * per_segment + syns_received * syn_options + payload_received;
    report.wire = report.sent;
    if (info.tcpi_total_retrans != 0) {
        report.problems.push_back("tcp retransmitted " + std::to_string(info.tcpi_total_retrans) +
                                  " segments");
    }
}

} // namespace

void run_tcp_server(const FlowSpec& flow, ControlChannel& channel) {
    const int family = flow.server_address.family;
    auto listener = open_socket(family, SOCK_STREAM, 0);
    bind_to(listener.get(), SocketAddress::from(flow.server_address, flow.server_port));
    if (::listen(listener.get(), 4) != 0) {
        throw_errno("listen");
    }
    channel.send("ready");
    SideReport report;
    const auto deadline = std::chrono::steady_clock::now() + io_timeout;
    UniqueFd connection;
    while (!connection.valid()) {
        pollfd events[2] = {{listener.get(), POLLIN, 0}, {channel.read_fd(), POLLIN, 0}};
        ::poll(events, 2, 100);
        if (events[0].revents != 0) {
            connection.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        } else if (events[1].revents != 0 || std::chrono::steady_clock::now() > deadline) {
            report.problems.push_back("tcp server saw no connection");
            channel.send(encode_report(report));
            return;
        }
    }
    set_no_delay(connection.get());
    SocketAddress peer;
    peer.length = sizeof peer.storage;
    if (::getpeername(connection.get(), peer.raw(), &peer.length) != 0) {
        throw_errno("getpeername");
    }
    report.view = {peer.address(), peer.port(), flow.server_address, flow.server_port};
    Traffic payload;
    if (!read_to_end(connection.get(), payload)) {
        report.problems.push_back("tcp server: client did not finish sending");
    }
    write_bursts(connection.get(), flow.reply, flow.rate);
    ::shutdown(connection.get(), SHUT_WR);
    wait_closed(connection.get(), report);
    // The SYN-ACK leaves from the listener's request socket, so the child's segs_out misses
    // it; its segs_in starts at 1 for the SYN.
    fill_from_tcp_info(report, connection.get(), family, 1, 1, true, 1);
    // Stay until told: the listener must not answer a late SYN with a reset.
    channel.receive(std::chrono::duration_cast<std::chrono::milliseconds>(io_timeout));
    channel.send(encode_report(report));
}

void run_tcp_client(const FlowSpec& flow, ControlChannel& channel) {
    const int family = flow.server_address.family;
    const auto route = route_to(flow.server_address);
    auto socket = open_socket(family, SOCK_STREAM, 0);
    bind_to(socket.get(),
            SocketAddress::from(flow.client_address.value_or(route.source), flow.client_port));
    set_no_delay(socket.get());
    SideReport report;
    const auto server = SocketAddress::from(flow.server_address, flow.server_port);
    // Non-blocking connect so a blocked SYN costs a bounded wait, not the SYN retry schedule.
    ::fcntl(socket.get(), F_SETFL, O_NONBLOCK);
    const int connected = ::connect(socket.get(), server.raw(), server.length);
    bool established = connected == 0;
    if (connected != 0 && errno == EINPROGRESS) {
        pollfd writable{socket.get(), POLLOUT, 0};
        int error = 0;
        socklen_t length = sizeof error;
        established = ::poll(&writable, 1, static_cast<int>(flow.reply_wait.count())) > 0 &&
                      ::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &length) == 0 &&
                      error == 0;
    }
    ::fcntl(socket.get(), F_SETFL, 0);
    const auto local = local_address(socket.get());
    report.view = {local.address(), local.port(), flow.server_address, flow.server_port};
    if (!established) {
        report.problems.push_back("tcp connect to " + flow.server_address.to_string() + " port " +
                                  std::to_string(flow.server_port) + " failed");
        fill_from_tcp_info(report, socket.get(), family, read_tcp_info(socket.get()).tcpi_segs_out,
                           0, false, 0);
        channel.send(encode_report(report));
        return;
    }
    write_bursts(socket.get(), flow.send, flow.rate);
    ::shutdown(socket.get(), SHUT_WR);
    Traffic payload;
    if (!read_to_end(socket.get(), payload)) {
        report.problems.push_back("tcp client: server did not finish replying");
    }
    wait_closed(socket.get(), report);
    fill_from_tcp_info(report, socket.get(), family, 1, 1, true, 0);
    channel.send(encode_report(report));
}

} // namespace acctc::testbench
