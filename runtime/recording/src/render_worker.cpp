#include "render_worker.hpp"

#include "acctc/recording/gzip.hpp"

#include <cerrno>
#include <cstdint>
#include <exception>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace acctc::recording {

RenderWorker::RenderWorker(const MetricsRenderer& render)
    : render_(render), ready_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!ready_) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    thread_ = std::thread([this] { work(); });
}

RenderWorker::~RenderWorker() {
    {
        const std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void RenderWorker::start(bool gzip) {
    RenderedMetrics job;
    job.started = std::chrono::steady_clock::now();
    if (gzip) {
        job.gzip = std::make_shared<const std::string>(); // marks "wanted"
    }
    {
        const std::lock_guard lock(mutex_);
        job_ = std::move(job);
    }
    busy_ = true;
    wake_.notify_one();
}

std::optional<RenderedMetrics> RenderWorker::take() {
    std::uint64_t count = 0;
    (void)::read(ready_.get(), &count, sizeof count);
    const std::lock_guard lock(mutex_);
    if (!done_) {
        return std::nullopt;
    }
    busy_ = false;
    return std::exchange(done_, std::nullopt);
}

void RenderWorker::work() {
    for (;;) {
        RenderedMetrics job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stop_ || job_; });
            if (stop_) {
                return;
            }
            job = std::move(*job_);
            job_.reset();
        }
        try {
            auto text = std::make_shared<const std::string>(render_());
            if (job.gzip) {
                job.gzip = std::make_shared<const std::string>(gzip_compress(*text));
            }
            job.plain = std::move(text);
        } catch (const std::exception& error) {
            job.error = error.what();
            job.plain.reset();
            job.gzip.reset();
            if (job.error.empty()) {
                job.error = "the counters could not be read";
            }
        }
        {
            const std::lock_guard lock(mutex_);
            done_ = std::move(job);
        }
        const std::uint64_t one = 1;
        (void)::write(ready_.get(), &one, sizeof one);
    }
}

} // namespace acctc::recording
