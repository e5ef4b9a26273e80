// The exporter's second thread: reads the counters and renders (and gzips) the exposition text
// while the poll loop keeps answering, so a 0.5 s read of 100,000 counters delays nobody's
// socket. One render at a time; the loop learns of a finished one through an eventfd.
#pragma once

#include "acctc/recording/metrics_endpoint.hpp"
#include "acctc/recording/unique_fd.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace acctc::recording {

// One reading of the counters as bodies to send, shared by every response that uses it.
struct RenderedMetrics {
    std::chrono::steady_clock::time_point started; // before the counters were read
    std::shared_ptr<const std::string> plain;
    std::shared_ptr<const std::string> gzip; // null unless asked for
    std::string error;                       // non-empty: the renderer threw this
};

class RenderWorker {
  public:
    explicit RenderWorker(const MetricsRenderer& render);
    ~RenderWorker(); // waits for a render in progress
    RenderWorker(const RenderWorker&) = delete;
    RenderWorker& operator=(const RenderWorker&) = delete;

    // Readable when a render finished; take() it.
    int ready_fd() const { return ready_.get(); }
    bool busy() const { return busy_; }

    // Starts a render (not busy() only); `started` is stamped now, before any counter is read.
    void start(bool gzip);
    // The finished render, once ready_fd() was readable; empty if none is finished.
    std::optional<RenderedMetrics> take();

  private:
    void work();

    const MetricsRenderer& render_;
    UniqueFd ready_;
    bool busy_ = false; // loop thread only
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::optional<RenderedMetrics> job_;  // to do: started and gzip filled in
    std::optional<RenderedMetrics> done_; // finished
    std::thread thread_;
};

} // namespace acctc::recording
