#include "service.hpp"

#include "acctc/unique_fd.hpp"

#include <cstdlib>
#include <cstring>
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

} // namespace

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
