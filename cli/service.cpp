#include "service.hpp"

#include "acctc/unique_fd.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace acctc::cli {
namespace {

// $JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected; a child whose stderr was
// redirected elsewhere inherits the variable but not the stream, hence the comparison.
bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat status {};
    if (stream == nullptr || ::fstat(STDERR_FILENO, &status) != 0) {
        return false;
    }
    return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino) == stream;
}

// Sleeps until the next multiple of `every` on the wall clock; false when SIGTERM or SIGINT
// arrived instead.
bool wait_for_next_round(unsigned every, const sigset_t& stop_signals) {
    const auto now = std::time(nullptr);
    const auto next = (now / every + 1) * static_cast<std::time_t>(every);
    const timespec timeout{next - now, 0};
    siginfo_t info{};
    return ::sigtimedwait(&stop_signals, &info, &timeout) < 0;
}

} // namespace

void run_every(unsigned every, const std::function<void(bool first)>& round) {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    bool first = true;
    do {
        round(first);
        first = false;
    } while (wait_for_next_round(every, stop_signals));
}

void log_line(LogPriority priority, const std::string& line) {
    static const bool journal = stderr_is_journal();
    std::istringstream lines(line);
    std::string out;
    for (std::string part; std::getline(lines, part);) {
        if (journal) {
            out += "<" + std::to_string(static_cast<int>(priority)) + ">";
        }
        out += part + "\n";
    }
    std::cerr << out << std::flush;
}

bool notify_service_manager(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || path[0] == '\0') {
        return false;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::size_t length = std::strlen(path);
    if (length >= sizeof address.sun_path || (path[0] != '/' && path[0] != '@')) {
        return false;
    }
    std::memcpy(address.sun_path, path, length);
    if (path[0] == '@') {
        address.sun_path[0] = '\0'; // an abstract socket
    }
    const UniqueFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!socket) {
        return false;
    }
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
    return ::sendto(socket.get(), state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address),
                    size) == static_cast<ssize_t>(state.size());
}

} // namespace acctc::cli
