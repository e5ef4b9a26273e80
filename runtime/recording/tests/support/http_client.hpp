// A raw TCP client for requests curl refuses to send (malformed, oversized, slow).
#pragma once

#include "acctc/recording/unique_fd.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace acctc::recording::testing {

// Connected, blocking socket to 127.0.0.1:port.
UniqueFd connect_loopback(std::uint16_t port);

// Sends everything (ignoring a reset once the server has answered).
void send_all(int fd, std::string_view data);

// Reads until the server closes or `timeout` passes.
std::string read_until_close(int fd, std::chrono::milliseconds timeout);

// Connect, send, read the whole answer.
std::string exchange(std::uint16_t port, std::string_view request,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The status code of a raw HTTP response, 0 if there is no status line.
int status_of(std::string_view response);

} // namespace acctc::recording::testing
