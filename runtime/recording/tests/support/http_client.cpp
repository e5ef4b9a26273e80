#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>

namespace acctc::recording::testing {

UniqueFd connect_loopback(std::uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!fd || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
        throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
    return fd;
}

void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; // the server may answer and close before reading everything
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string read_until_close(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string received;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return received;
        }
        pollfd polled{fd, POLLIN, 0};
        if (::poll(&polled, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        std::array<char, 4096> buffer{};
        const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0) {
            return received;
        }
        received.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

std::string exchange(std::uint16_t port, std::string_view request,
                     std::chrono::milliseconds timeout) {
    const auto fd = connect_loopback(port);
    send_all(fd.get(), request);
    return read_until_close(fd.get(), timeout);
}

int status_of(std::string_view response) {
    if (response.size() < 12 || response.substr(0, 5) != "HTTP/") {
        return 0;
    }
    const auto space = response.find(' ');
    if (space == std::string_view::npos || space + 4 > response.size()) {
        return 0;
    }
    return std::atoi(std::string(response.substr(space + 1, 3)).c_str());
}

} // namespace acctc::recording::testing
