// The exporter's HTTP server: one thread, one poll(2) loop, non-blocking sockets and a deadline
// per connection, so a slow or silent client costs one slot for a bounded time and nothing more.
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
    std::size_t max_connections = 64;  // beyond this the oldest still-reading client is dropped
    std::chrono::milliseconds read_timeout{5'000};   // the whole head must arrive in this time
    std::chrono::milliseconds write_timeout{10'000}; // the whole response must be taken
    std::chrono::milliseconds linger_timeout{1'000}; // reading leftovers before close
    std::function<void(const std::string&)> log;     // problems worth an operator's eye
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
