// An exclusive flock(2) on DIR/.acctc.lock, held while acctc creates or updates RRDs there.
#pragma once

#include "acctc/recording/unique_fd.hpp"

#include <chrono>
#include <filesystem>

namespace acctc::recording {

// librrd's own fcntl lock on an RRD is non-blocking ("could not lock RRD") and does not cover
// creation; this lock makes a timer run, an `--every` loop and a manual run take turns instead.
class DirectoryLock {
  public:
    // Waits up to `patience` for other acctc writers; throws std::runtime_error after that.
    DirectoryLock(const std::filesystem::path& dir, std::chrono::milliseconds patience);

  private:
    UniqueFd fd_; // closing it releases the lock
};

} // namespace acctc::recording
