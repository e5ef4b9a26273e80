#include "support/test_namespace.hpp"

#include "acctc/runtime/netns.hpp"
#include "support/process.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace acctc::recording::testing {
namespace {

void remove_stale_namespaces() {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
        const auto name = entry.path().filename().string();
        if (name.rfind(namespace_prefix, 0) != 0) {
            continue;
        }
        const auto pid_text = name.substr(std::strlen(namespace_prefix));
        const auto pid = std::atoi(pid_text.c_str());
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
            run_process({"ip", "netns", "delete", name});
        }
    }
}

} // namespace

TestNamespace::TestNamespace(const std::string& tag)
    : name_(std::string(namespace_prefix) + std::to_string(::getpid()) + "-" + tag) {
    remove_stale_namespaces();
    run_checked({"ip", "netns", "add", name_});
    try {
        exec({"ip", "link", "set", "lo", "up"});
    } catch (...) {
        run_process({"ip", "netns", "delete", name_});
        throw;
    }
}

TestNamespace::~TestNamespace() {
    run_process({"ip", "netns", "delete", name_});
}

std::string TestNamespace::exec(const std::vector<std::string>& argv) const {
    std::vector<std::string> full = {"ip", "netns", "exec", name_};
    full.insert(full.end(), argv.begin(), argv.end());
    return run_checked(full);
}

void TestNamespace::load_nft(const std::string& ruleset) const {
    run_checked({"ip", "netns", "exec", name_, "nft", "-f", "-"}, ruleset);
}

UniqueFd TestNamespace::socket(int type) const {
    const runtime::NetnsScope inside(name_);
    UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!fd) {
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    return fd;
}

sockaddr_in ipv4(const std::string& address, unsigned port) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, address.c_str(), &to.sin_addr) != 1) {
        throw std::invalid_argument("bad address " + address);
    }
    return to;
}

void send_datagrams(int socket, const std::string& address, unsigned port, unsigned count,
                    std::size_t payload) {
    const auto to = ipv4(address, port);
    const std::string data(payload, 'x');
    for (unsigned i = 0; i < count; ++i) {
        if (::sendto(socket, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                     sizeof to) != static_cast<ssize_t>(data.size())) {
            throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
        }
    }
}

bool can_use_namespaces() {
    return ::geteuid() == 0 && on_path("ip") && on_path("nft");
}

} // namespace acctc::recording::testing
