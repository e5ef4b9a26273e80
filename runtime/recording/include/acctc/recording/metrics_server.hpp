// The exporter's HTTP server: one poll(2) loop with non-blocking sockets and a deadline per
// connection, so a slow or silent client costs one slot for a bounded time and nothing more;
// the counters are read and rendered on a second thread, once for every request that arrives
// meanwhile (and for those within max_age after), and each body is shared, never copied.
#pragma once

#include "acctc/recording/listen_address.hpp"
#include "acctc/recording/metrics_endpoint.hpp"
#include "acctc/recording/unique_fd.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace acctc::recording {

struct ServerOptions {
    std::size_t max_head_bytes = 8192; // larger heads get 431 (414 for a long request line)
    // Beyond this, the client that has made no progress for longest is dropped (one waiting for
    // the counters only when all are).
    std::size_t max_connections = 256;
    // A request is answered with counters read no earlier than this before it arrived: 0 reads
    // afresh for it (sharing only a read that starts after it arrived).
    std::chrono::milliseconds max_age{5'000};
    // Responses still being sent may hold older bodies up to this many bytes in all; beyond, the
    // clients holding the oldest are dropped (clients that do not read cannot pin memory).
    std::size_t max_held_bytes = 64 * 1024 * 1024;
    std::size_t send_buffer_bytes = 256 * 1024;       // SO_SNDBUF of each connection
    std::chrono::milliseconds read_timeout{5'000};    // the whole head must arrive in this time
    std::chrono::milliseconds render_timeout{30'000}; // 503 if the counters take longer
    std::chrono::milliseconds write_timeout{10'000};  // the whole response must be taken
    std::chrono::milliseconds linger_timeout{1'000};  // reading leftovers before close
    std::function<void(const std::string&)> log;      // problems worth an operator's eye
};

class MetricsServer {
  public:
    // Binds and listens at once, so a bad address or a busy port fails before run().
    MetricsServer(const ListenAddress& address, MetricsRenderer render, ServerOptions options = {});

    // Where it listens, with the port the kernel chose for port 0.
    const ListenAddress& address() const { return bound_; }

    // Serves until `stop_fd` becomes readable (a signalfd for SIGTERM, an eventfd in tests).
    void run(int stop_fd);

  private:
    UniqueFd listener_;
    ListenAddress bound_;
    MetricsRenderer render_;
    ServerOptions options_;
};

} // namespace acctc::recording
