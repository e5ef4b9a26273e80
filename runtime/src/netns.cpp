#include "acctc/runtime/netns.hpp"

#include "acctc/runtime/errors.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acctc::runtime {
namespace {

// thread-self: setns() and unshare() change only the calling thread's namespace.
constexpr const char* own_netns = "/proc/thread-self/ns/net";

int open_own_netns() {
    const int fd = ::open(own_netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw_system_error(std::string("cannot open ") + own_netns, errno);
    }
    return fd;
}

} // namespace

NetnsScope::NetnsScope(const std::string& name) {
    if (name.empty()) {
        return;
    }
    if (name.find('/') != std::string::npos || name == "." || name == "..") {
        throw RuntimeError(ErrorKind::netns, "invalid network namespace name '" + name + "'");
    }
    const std::string path = "/run/netns/" + name;
    const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
        const int error = errno;
        throw RuntimeError(ErrorKind::netns, "cannot open network namespace '" + name + "' (" +
                                                 path + "): " + std::strerror(error));
    }
    previous_ = open_own_netns();
    if (::setns(target, CLONE_NEWNET) != 0) {
        const int error = errno;
        ::close(target);
        ::close(previous_);
        previous_ = -1;
        throw RuntimeError(error == EPERM ? ErrorKind::permission : ErrorKind::netns,
                           "cannot enter network namespace '" + name +
                               "': " + std::strerror(error) +
                               (error == EPERM ? " (needs CAP_SYS_ADMIN; run as root)" : ""));
    }
    ::close(target);
}

NetnsScope NetnsScope::isolated() {
    NetnsScope scope;
    scope.previous_ = open_own_netns();
    if (::unshare(CLONE_NEWNET) != 0) {
        const int error = errno;
        ::close(scope.previous_);
        scope.previous_ = -1;
        throw RuntimeError(error == EPERM ? ErrorKind::permission : ErrorKind::netns,
                           std::string("cannot create a scratch network namespace: ") +
                               std::strerror(error) +
                               (error == EPERM ? " (needs CAP_SYS_ADMIN; run as root)" : ""));
    }
    return scope;
}

NetnsScope::NetnsScope(NetnsScope&& other) noexcept : previous_(other.previous_) {
    other.previous_ = -1;
}

NetnsScope::~NetnsScope() {
    if (previous_ >= 0) {
        // Cannot fail for a namespace fd we opened ourselves while still holding it.
        (void)::setns(previous_, CLONE_NEWNET);
        ::close(previous_);
    }
}

unsigned long current_netns_id() {
    struct stat info {};
    if (::stat(own_netns, &info) != 0) {
        throw_system_error(std::string("cannot stat ") + own_netns, errno);
    }
    return static_cast<unsigned long>(info.st_ino);
}

std::optional<std::uint64_t> current_netns_cookie() {
#ifdef SO_NETNS_COOKIE
    // A socket belongs to the namespace its creating thread is in.
    const UniqueFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    std::uint64_t cookie = 0;
    socklen_t length = sizeof cookie;
    if (socket && ::getsockopt(socket.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &length) == 0 &&
        length == sizeof cookie) {
        return cookie;
    }
#endif
    return std::nullopt;
}

} // namespace acctc::runtime
