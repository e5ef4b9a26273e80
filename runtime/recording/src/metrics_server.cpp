#include "acctc/recording/metrics_server.hpp"

#include "acctc/recording/http_request.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <system_error>
#include <vector>

namespace acctc::recording {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes of a client's leftovers read and thrown away before giving up on a clean close.
constexpr std::size_t max_drain_bytes = 64 * 1024;
constexpr auto accept_backoff = std::chrono::milliseconds(100);

struct Connection {
    enum class Phase { reading, writing, draining, closed };
    UniqueFd fd;
    Phase phase = Phase::reading;
    Clock::time_point accepted;
    Clock::time_point deadline;
    std::string received;
    std::string pending; // response bytes not yet sent
    std::size_t drained = 0;
};

bool would_block(int error) {
    return error == EAGAIN || error == EWOULDBLOCK;
}

class Loop {
  public:
    Loop(int listener, const MetricsRenderer& render, const ServerOptions& options)
        : listener_(listener), render_(render), options_(options) {}

    void run(int stop_fd);

  private:
    void accept_all(Clock::time_point now);
    void expire(Connection& connection, Clock::time_point now);
    void on_ready(Connection& connection, short events, Clock::time_point now);
    void read_head(Connection& connection, Clock::time_point now);
    void start_response(Connection& connection, const HttpResponse& response, bool head_only,
                        Clock::time_point now);
    void write_pending(Connection& connection, Clock::time_point now);
    void drain(Connection& connection);
    void report(const std::string& message) const {
        if (options_.log) {
            options_.log(message);
        }
    }

    int listener_;
    const MetricsRenderer& render_;
    const ServerOptions& options_;
    std::vector<Connection> connections_;
    Clock::time_point accept_paused_until{};
};

void Loop::run(int stop_fd) {
    std::vector<pollfd> fds;
    for (;;) {
        auto now = Clock::now();
        for (auto& connection : connections_) {
            if (now >= connection.deadline) {
                expire(connection, now);
            }
        }
        std::erase_if(connections_, [](const Connection& connection) {
            return connection.phase == Connection::Phase::closed;
        });

        const bool accepting = now >= accept_paused_until;
        fds.clear();
        fds.push_back({stop_fd, POLLIN, 0});
        fds.push_back({accepting ? listener_ : -1, POLLIN, 0}); // fd -1 is ignored by poll
        auto wake = accepting ? Clock::time_point::max() : accept_paused_until;
        for (const auto& connection : connections_) {
            const short events = connection.phase == Connection::Phase::writing ? POLLOUT : POLLIN;
            fds.push_back({connection.fd.get(), events, 0});
            wake = std::min(wake, connection.deadline);
        }
        int timeout_ms = -1;
        if (wake != Clock::time_point::max()) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - now);
            timeout_ms = static_cast<int>(std::max<long long>(0, left.count()));
        }
        if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        if (fds[0].revents != 0) {
            return; // stop requested; open connections close with their UniqueFd
        }
        now = Clock::now();
        // Connections accepted below are appended, so indices of the polled ones stay valid.
        const std::size_t polled = connections_.size();
        if (fds[1].revents != 0) {
            accept_all(now);
        }
        for (std::size_t i = 0; i < polled; ++i) {
            if (fds[i + 2].revents != 0) {
                on_ready(connections_[i], fds[i + 2].revents, now);
            }
        }
    }
}

void Loop::accept_all(Clock::time_point now) {
    for (;;) {
        UniqueFd fd(::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (would_block(errno)) {
                return;
            }
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
                continue;
            }
            // EMFILE, ENFILE, ENOBUFS: back off instead of spinning on a ready listener.
            report(std::string("accept: ") + std::strerror(errno));
            accept_paused_until = now + accept_backoff;
            return;
        }
        const auto open =
            std::count_if(connections_.begin(), connections_.end(),
                          [](const auto& c) { return c.phase != Connection::Phase::closed; });
        if (static_cast<std::size_t>(open) >= options_.max_connections) {
            // Full: make room by dropping the oldest client that has not finished its request.
            auto oldest = connections_.end();
            for (auto it = connections_.begin(); it != connections_.end(); ++it) {
                if (it->phase == Connection::Phase::reading &&
                    (oldest == connections_.end() || it->accepted < oldest->accepted)) {
                    oldest = it;
                }
            }
            if (oldest == connections_.end()) {
                continue; // everyone is being answered; this one waits for a later try
            }
            oldest->fd.reset();
            oldest->phase = Connection::Phase::closed;
        }
        Connection connection;
        connection.fd = std::move(fd);
        connection.accepted = now;
        connection.deadline = now + options_.read_timeout;
        connections_.push_back(std::move(connection));
    }
}

void Loop::expire(Connection& connection, Clock::time_point now) {
    if (connection.phase == Connection::Phase::reading && !connection.received.empty()) {
        // A client that started a request hears why it is being dropped.
        start_response(connection, error_response(408, "the request head took too long"), false,
                       now);
        return;
    }
    connection.fd.reset();
    connection.phase = Connection::Phase::closed;
}

void Loop::on_ready(Connection& connection, short /*events*/, Clock::time_point now) {
    switch (connection.phase) {
    case Connection::Phase::reading:
        read_head(connection, now);
        break;
    case Connection::Phase::writing:
        write_pending(connection, now);
        break;
    case Connection::Phase::draining:
        drain(connection);
        break;
    case Connection::Phase::closed:
        break;
    }
}

void Loop::read_head(Connection& connection, Clock::time_point now) {
    std::array<char, 4096> buffer{};
    bool peer_closed = false;
    // Never hold more than one byte past the limit: that is enough to know it is too long.
    while (connection.received.size() <= options_.max_head_bytes) {
        const auto room =
            std::min(buffer.size(), options_.max_head_bytes + 1 - connection.received.size());
        const auto n = ::recv(connection.fd.get(), buffer.data(), room, 0);
        if (n > 0) {
            connection.received.append(buffer.data(), static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            peer_closed = true;
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (would_block(errno)) {
            break;
        }
        connection.fd.reset();
        connection.phase = Connection::Phase::closed;
        return;
    }
    const auto parsed = parse_request_head(connection.received, options_.max_head_bytes);
    switch (parsed.state) {
    case HeadParse::State::complete:
        start_response(connection, respond(parsed.request, render_),
                       parsed.request.method == "HEAD", now);
        if (connection.phase == Connection::Phase::writing) {
            // respond() may have taken a while (reading counters); do not charge the client.
            connection.deadline = Clock::now() + options_.write_timeout;
        }
        return;
    case HeadParse::State::rejected:
        start_response(connection, error_response(parsed.status, parsed.reason), false, now);
        return;
    case HeadParse::State::incomplete:
        if (peer_closed) {
            connection.fd.reset();
            connection.phase = Connection::Phase::closed;
        }
        return;
    }
}

void Loop::start_response(Connection& connection, const HttpResponse& response, bool head_only,
                          Clock::time_point now) {
    if (response.status >= 500) {
        report("answered " + std::to_string(response.status) + ": " + response.body);
    }
    connection.pending = serialize(response, head_only);
    connection.phase = Connection::Phase::writing;
    connection.deadline = now + options_.write_timeout;
    write_pending(connection, now);
}

void Loop::write_pending(Connection& connection, Clock::time_point now) {
    while (!connection.pending.empty()) {
        // MSG_NOSIGNAL: a client that went away is an EPIPE here, not a SIGPIPE for the process.
        const auto n = ::send(connection.fd.get(), connection.pending.data(),
                              connection.pending.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            connection.pending.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (!would_block(errno)) {
            connection.fd.reset();
            connection.phase = Connection::Phase::closed;
        }
        return;
    }
    // Half-close and read what the client still sends: closing with unread data would send
    // a reset that can destroy the response before the client has read it.
    ::shutdown(connection.fd.get(), SHUT_WR);
    connection.phase = Connection::Phase::draining;
    connection.deadline = now + options_.linger_timeout;
    drain(connection);
}

void Loop::drain(Connection& connection) {
    std::array<char, 4096> buffer{};
    for (;;) {
        const auto n = ::recv(connection.fd.get(), buffer.data(), buffer.size(), 0);
        if (n > 0) {
            connection.drained += static_cast<std::size_t>(n);
            if (connection.drained <= max_drain_bytes) {
                continue;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && would_block(errno)) {
            return;
        }
        connection.fd.reset();
        connection.phase = Connection::Phase::closed;
        return;
    }
}

} // namespace

MetricsServer::MetricsServer(const ListenAddress& address, MetricsRenderer render,
                             ServerOptions options)
    : render_(std::move(render)), options_(std::move(options)) {
    listener_.reset(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listener_) {
        throw std::system_error(errno, std::generic_category(), "socket");
    }
    const int on = 1;
    // A restarted exporter must not wait for old connections in TIME_WAIT to expire.
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address.storage),
               address.length) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot listen on " + address.to_string());
    }
    if (::listen(listener_.get(), SOMAXCONN) != 0) {
        throw std::system_error(errno, std::generic_category(), "listen");
    }
    bound_ = local_address_of(listener_.get());
}

void MetricsServer::run(int stop_fd) {
    Loop loop(listener_.get(), render_, options_);
    loop.run(stop_fd);
}

} // namespace acctc::recording
