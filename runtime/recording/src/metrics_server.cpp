#include "acctc/recording/metrics_server.hpp"

#include "acctc/recording/http_request.hpp"
#include "render_worker.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <system_error>
#include <vector>

namespace acctc::recording {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes of a client's leftovers read and thrown away before giving up on a clean close.
constexpr std::size_t max_drain_bytes = 64 * 1024;
constexpr auto accept_backoff = std::chrono::milliseconds(100);

struct Connection {
    enum class Phase { reading, waiting, writing, draining, closed };
    UniqueFd fd;
    Phase phase = Phase::reading;
    Clock::time_point deadline;
    Clock::time_point last_progress; // accepted, or last bytes in or out
    std::string received;
    // waiting: what the request asked for
    Clock::time_point requested;
    bool head_only = false;
    bool gzip = false;
    // writing: the head, then a body shared with other responses
    std::string head;
    std::shared_ptr<const std::string> body;
    Clock::time_point body_started; // when the counters in `body` were read
    std::size_t sent = 0;           // of head + body
    std::size_t drained = 0;

    void close() {
        fd.reset();
        phase = Phase::closed;
        body.reset();
    }
};

bool would_block(int error) {
    return error == EAGAIN || error == EWOULDBLOCK;
}

class Loop {
  public:
    Loop(int listener, const MetricsRenderer& render, const ServerOptions& options)
        : listener_(listener), worker_(render), options_(options) {}

    void run(int stop_fd);

  private:
    void accept_all(Clock::time_point now);
    bool make_room();
    void expire(Connection& connection, Clock::time_point now);
    void on_ready(Connection& connection, short events, Clock::time_point now);
    void read_head(Connection& connection, Clock::time_point now);
    bool fresh_enough(const Connection& connection) const;
    void start_render_if_needed(Clock::time_point now);
    void on_rendered(Clock::time_point now);
    void release_old_bodies();
    void send_metrics(Connection& connection, Clock::time_point now);
    void start_response(Connection& connection, const HttpResponse& response, bool head_only,
                        Clock::time_point now);
    void start_writing(Connection& connection, std::string head,
                       std::shared_ptr<const std::string> body, Clock::time_point now);
    void write_pending(Connection& connection, Clock::time_point now);
    void drain(Connection& connection, Clock::time_point now);
    void report(const std::string& message) const {
        if (options_.log) {
            options_.log(message);
        }
    }

    int listener_;
    RenderWorker worker_;
    const ServerOptions& options_;
    std::vector<Connection> connections_;
    Clock::time_point accept_paused_until{};
    std::optional<RenderedMetrics> latest_; // the last good render
    Clock::time_point rendering_since_{};   // of the render in progress
    bool gzip_wanted_ = false;              // once a client asked, every render is also gzipped
    Clock::time_point last_request_{};      // of /metrics
};

void Loop::run(int stop_fd) {
    std::vector<pollfd> fds;
    for (;;) {
        auto now = Clock::now();
        for (auto& connection : connections_) {
            if (connection.phase != Connection::Phase::closed && now >= connection.deadline) {
                expire(connection, now);
            }
        }
        std::erase_if(connections_, [](const Connection& connection) {
            return connection.phase == Connection::Phase::closed;
        });

        const bool accepting = now >= accept_paused_until;
        fds.clear();
        fds.push_back({stop_fd, POLLIN, 0});
        fds.push_back({worker_.ready_fd(), POLLIN, 0});
        fds.push_back({accepting ? listener_ : -1, POLLIN, 0}); // fd -1 is ignored by poll
        constexpr std::size_t first_connection = 3;
        auto wake = accepting ? Clock::time_point::max() : accept_paused_until;
        for (const auto& connection : connections_) {
            short events = POLLIN;
            if (connection.phase == Connection::Phase::writing) {
                events = POLLOUT;
            } else if (connection.phase == Connection::Phase::waiting) {
                events = 0; // nothing to do until the counters are there; errors still show
            }
            fds.push_back({connection.fd.get(), events, 0});
            wake = std::min(wake, connection.deadline);
        }
        if (options_.max_age.count() > 0 && latest_ && !worker_.busy() &&
            now - last_request_ < options_.max_age) {
            wake = std::min(wake, std::max(now, latest_->started + options_.max_age / 2));
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
        for (std::size_t i = 0; i < polled; ++i) {
            if (fds[i + first_connection].revents != 0) {
                on_ready(connections_[i], fds[i + first_connection].revents, now);
            }
        }
        if (fds[1].revents != 0) {
            on_rendered(now);
        }
        if (fds[2].revents != 0) {
            accept_all(now);
        }
        start_render_if_needed(now);
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
        if (!make_room()) {
            continue; // every slot waits for the counters; this one is closed
        }
        // A client that does not read pins at most this much kernel memory, not a whole body
        // (loopback autotuning would take megabytes per socket); a reading one is barely slowed.
        const int send_buffer = static_cast<int>(options_.send_buffer_bytes);
        ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
        Connection connection;
        connection.fd = std::move(fd);
        connection.last_progress = now;
        connection.deadline = now + options_.read_timeout;
        connections_.push_back(std::move(connection));
    }
}

// Full: drop the client idle for longest (a silent one, or one that does not read its
// response); clients waiting for the counters are the server's fault, not theirs.
bool Loop::make_room() {
    const auto open = std::count_if(connections_.begin(), connections_.end(), [](const auto& c) {
        return c.phase != Connection::Phase::closed;
    });
    if (static_cast<std::size_t>(open) < options_.max_connections) {
        return true;
    }
    Connection* idlest = nullptr;
    for (auto& connection : connections_) {
        if (connection.phase == Connection::Phase::closed ||
            connection.phase == Connection::Phase::waiting) {
            continue;
        }
        if (idlest == nullptr || connection.last_progress < idlest->last_progress) {
            idlest = &connection;
        }
    }
    if (idlest == nullptr) {
        return false;
    }
    idlest->close();
    return true;
}

void Loop::expire(Connection& connection, Clock::time_point now) {
    if (connection.phase == Connection::Phase::reading && !connection.received.empty()) {
        // A client that started a request hears why it is being dropped.
        start_response(connection, error_response(408, "the request head took too long"), false,
                       now);
        return;
    }
    if (connection.phase == Connection::Phase::waiting) {
        start_response(connection, error_response(503, "the counters took too long to read"),
                       connection.head_only, now);
        return;
    }
    connection.close();
}

void Loop::on_ready(Connection& connection, short events, Clock::time_point now) {
    switch (connection.phase) {
    case Connection::Phase::reading:
        read_head(connection, now);
        break;
    case Connection::Phase::waiting:
        if ((events & (POLLERR | POLLHUP)) != 0) {
            connection.close(); // gone; nobody to answer
        }
        break;
    case Connection::Phase::writing:
        write_pending(connection, now);
        break;
    case Connection::Phase::draining:
        drain(connection, now);
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
            connection.last_progress = now;
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
        connection.close();
        return;
    }
    const auto parsed = parse_request_head(connection.received, options_.max_head_bytes);
    switch (parsed.state) {
    case HeadParse::State::complete: {
        const auto routed = route(parsed.request);
        if (routed.answer) {
            start_response(connection, *routed.answer, parsed.request.method == "HEAD", now);
            return;
        }
        connection.requested = now;
        last_request_ = now;
        connection.head_only = routed.head_only;
        connection.gzip = routed.gzip;
        gzip_wanted_ = gzip_wanted_ || routed.gzip;
        if (fresh_enough(connection)) {
            send_metrics(connection, now);
            return;
        }
        connection.phase = Connection::Phase::waiting;
        connection.deadline = now + options_.render_timeout;
        return;
    }
    case HeadParse::State::rejected:
        start_response(connection, error_response(parsed.status, parsed.reason), false, now);
        return;
    case HeadParse::State::incomplete:
        if (peer_closed) {
            connection.close();
        }
        return;
    }
}

bool Loop::fresh_enough(const Connection& connection) const {
    return latest_ && latest_->started + options_.max_age >= connection.requested &&
           (!connection.gzip || latest_->gzip);
}

// One render at a time, for whoever waits; a request that arrived after the render in progress
// started (with max_age 0) gets the next one. While requests keep coming, the next render
// starts when the last one is half its max_age old, so they find one ready instead of waiting
// (at most one read per half max_age, and only while requests come; none is older than max_age
// when served).
void Loop::start_render_if_needed(Clock::time_point now) {
    if (worker_.busy()) {
        return;
    }
    const bool someone_waits =
        std::any_of(connections_.begin(), connections_.end(),
                    [](const Connection& c) { return c.phase == Connection::Phase::waiting; });
    const bool in_demand = options_.max_age.count() > 0 && latest_ &&
                           now - last_request_ < options_.max_age &&
                           now - latest_->started >= options_.max_age / 2;
    if (someone_waits || in_demand) {
        worker_.start(gzip_wanted_);
    }
}

void Loop::on_rendered(Clock::time_point now) {
    auto rendered = worker_.take();
    if (!rendered) {
        return;
    }
    if (!rendered->error.empty()) {
        // Everyone this render was for hears why; later arrivals wait for the next try.
        report("answered 500: " + rendered->error);
        const auto response = error_response(500, rendered->error);
        for (auto& connection : connections_) {
            if (connection.phase == Connection::Phase::waiting &&
                connection.requested <= rendered->started + options_.max_age) {
                start_response(connection, response, connection.head_only, now);
            }
        }
        return;
    }
    latest_ = std::move(rendered);
    for (auto& connection : connections_) {
        if (connection.phase == Connection::Phase::waiting && fresh_enough(connection)) {
            send_metrics(connection, now);
        }
    }
    release_old_bodies();
}

// Bodies of earlier renders stay alive only while some response still sends them; if those add
// up to more than max_held_bytes, the clients holding the oldest ones are dropped.
void Loop::release_old_bodies() {
    std::map<Clock::time_point, std::map<const std::string*, std::size_t>> held; // by age
    std::size_t total = latest_->plain->size() + (latest_->gzip ? latest_->gzip->size() : 0);
    for (const auto& connection : connections_) {
        if (connection.phase != Connection::Phase::writing || !connection.body ||
            connection.body_started == latest_->started) {
            continue;
        }
        auto& bodies = held[connection.body_started];
        if (bodies.emplace(connection.body.get(), connection.body->size()).second) {
            total += connection.body->size();
        }
    }
    std::size_t dropped = 0;
    for (auto oldest = held.begin(); total > options_.max_held_bytes && oldest != held.end();
         ++oldest) {
        for (auto& connection : connections_) {
            if (connection.phase == Connection::Phase::writing &&
                connection.body_started == oldest->first) {
                connection.close();
                ++dropped;
            }
        }
        for (const auto& [body, size] : oldest->second) {
            total -= size;
        }
    }
    if (dropped > 0) {
        report("dropped " + std::to_string(dropped) +
               " client(s) still not reading older responses (--max-held-bytes)");
    }
}

void Loop::send_metrics(Connection& connection, Clock::time_point now) {
    const auto& body = connection.gzip ? latest_->gzip : latest_->plain;
    connection.body_started = latest_->started;
    auto head = serialize_head(metrics_response(connection.gzip), body->size());
    start_writing(connection, std::move(head), connection.head_only ? nullptr : body, now);
}

void Loop::start_response(Connection& connection, const HttpResponse& response, bool head_only,
                          Clock::time_point now) {
    if (response.status >= 500 && response.status != 500) {
        report("answered " + std::to_string(response.status) + ": " + response.body);
    }
    start_writing(connection, serialize(response, head_only), nullptr, now);
}

void Loop::start_writing(Connection& connection, std::string head,
                         std::shared_ptr<const std::string> body, Clock::time_point now) {
    connection.head = std::move(head);
    connection.body = std::move(body);
    connection.sent = 0;
    connection.phase = Connection::Phase::writing;
    connection.deadline = now + options_.write_timeout;
    write_pending(connection, now);
}

void Loop::write_pending(Connection& connection, Clock::time_point now) {
    const std::size_t body_size = connection.body ? connection.body->size() : 0;
    const std::size_t total = connection.head.size() + body_size;
    while (connection.sent < total) {
        std::array<iovec, 2> parts{};
        std::size_t count = 0;
        if (connection.sent < connection.head.size()) {
            parts[count++] = {connection.head.data() + connection.sent,
                              connection.head.size() - connection.sent};
        }
        if (body_size > 0) {
            const std::size_t from = connection.sent > connection.head.size()
                                         ? connection.sent - connection.head.size()
                                         : 0;
            parts[count++] = {const_cast<char*>(connection.body->data()) + from, body_size - from};
        }
        msghdr message{};
        message.msg_iov = parts.data();
        message.msg_iovlen = count;
        // MSG_NOSIGNAL: a client that went away is an EPIPE here, not a SIGPIPE for the process.
        const auto n = ::sendmsg(connection.fd.get(), &message, MSG_NOSIGNAL);
        if (n >= 0) {
            connection.sent += static_cast<std::size_t>(n);
            connection.last_progress = now;
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (!would_block(errno)) {
            connection.close();
        }
        return;
    }
    connection.body.reset();
    connection.head.clear();
    // Half-close and read what the client still sends: closing with unread data would send
    // a reset that can destroy the response before the client has read it.
    ::shutdown(connection.fd.get(), SHUT_WR);
    connection.phase = Connection::Phase::draining;
    connection.deadline = now + options_.linger_timeout;
    drain(connection, now);
}

void Loop::drain(Connection& connection, Clock::time_point now) {
    std::array<char, 4096> buffer{};
    for (;;) {
        const auto n = ::recv(connection.fd.get(), buffer.data(), buffer.size(), 0);
        if (n > 0) {
            connection.drained += static_cast<std::size_t>(n);
            connection.last_progress = now;
            if (connection.drained <= max_drain_bytes) {
                continue;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && would_block(errno)) {
            return;
        }
        connection.close();
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
