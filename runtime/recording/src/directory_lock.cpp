#include "acctc/recording/directory_lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/file.h>
#include <thread>

namespace acctc::recording {

DirectoryLock::DirectoryLock(const std::filesystem::path& dir, std::chrono::milliseconds patience) {
    const auto lock_file = dir / ".acctc.lock";
    fd_.reset(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_) {
        throw std::runtime_error("cannot open " + lock_file.string() + ": " + std::strerror(errno));
    }
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            throw std::runtime_error("cannot lock " + lock_file.string() + ": " +
                                     std::strerror(errno));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw std::runtime_error("another acctc process keeps " + lock_file.string() +
                                     " locked");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

} // namespace acctc::recording
