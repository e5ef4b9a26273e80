#include "kernel_fixture.hpp"

#include "acctc/runtime/netns.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <netinet/in.h>
#include <regex>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Namespaces left by an earlier run that crashed before its destructors ran.
void remove_stale_namespaces() {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
        const std::string name = entry.path().filename().string();
        const std::string prefix = "acctc-rt-";
        if (name.rfind(prefix, 0) != 0) {
            continue;
        }
        const pid_t owner = static_cast<pid_t>(std::atol(name.c_str() + prefix.size()));
        if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) {
            shell_status("ip netns del " + name);
        }
    }
}

} // namespace

int shell_status(const std::string& command, std::string* out, std::string* err) {
    static std::atomic<int> next{0};
    const std::string base =
        "/tmp/acctc-rt-" + std::to_string(::getpid()) + "-" + std::to_string(next++);
    const int status =
        std::system(("(" + command + ") >" + base + ".out 2>" + base + ".err").c_str());
    if (out != nullptr) {
        *out = slurp(base + ".out");
    }
    if (err != nullptr) {
        *err = slurp(base + ".err");
    }
    std::remove((base + ".out").c_str());
    std::remove((base + ".err").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string shell(const std::string& command) {
    std::string out;
    std::string err;
    if (shell_status(command, &out, &err) != 0) {
        throw std::runtime_error("command failed: " + command + "\n" + err);
    }
    return out;
}

TestNamespace::TestNamespace() {
    static std::atomic<int> next{0};
    static const bool cleaned = (remove_stale_namespaces(), true);
    (void)cleaned;
    name_ = "acctc-rt-" + std::to_string(::getpid()) + "-" + std::to_string(next++);
    shell("ip netns add " + name_);
    try {
        shell("ip -n " + name_ + " link set lo up && ip -n " + name_ +
              " addr add 198.18.0.1/32 dev lo");
    } catch (...) {
        shell_status("ip netns del " + name_);
        throw;
    }
}

TestNamespace::~TestNamespace() {
    shell_status("ip netns del " + name_);
}

std::string TestNamespace::nft(const std::string& arguments) const {
    return shell("ip netns exec " + name_ + " nft " + arguments);
}

std::filesystem::path cgroup2_mount() {
    std::ifstream mounts("/proc/self/mounts");
    std::string device, point, type, rest;
    while (mounts >> device >> point >> type && std::getline(mounts, rest)) {
        if (type == "cgroup2") {
            return point;
        }
    }
    throw std::runtime_error("no cgroup2 hierarchy mounted");
}

ScopedDirectory::ScopedDirectory(const std::filesystem::path& path) {
    for (std::filesystem::path p = path; !p.empty() && !std::filesystem::exists(p);
         p = p.parent_path()) {
        created_.push_back(p);
    }
    std::filesystem::create_directories(path);
}

ScopedDirectory::~ScopedDirectory() {
    for (const auto& path : created_) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
}

CompiledPolicy make_policy(const std::string& policy, const std::string& definition,
                           const std::vector<std::string>& counters) {
    CompiledPolicy compiled;
    compiled.policy_name = policy;
    compiled.table_name = "acctc_" + policy;
    compiled.preamble =
        "table inet " + compiled.table_name + "\ndelete table inet " + compiled.table_name + "\n";
    compiled.definition = definition;
    compiled.text = compiled.preamble + definition;
    // Each counter's origin as its declaration's comment says, as the compiler hands it over.
    static const std::regex declared(R"re(counter (\S+) \{ comment "([^"]*)" \})re");
    std::map<std::string, std::string> origins;
    for (auto it = std::sregex_iterator(definition.begin(), definition.end(), declared);
         it != std::sregex_iterator(); ++it) {
        origins[(*it)[1].str()] = (*it)[2].str();
    }
    for (const auto& counter : counters) {
        const auto origin = origins.find(counter);
        compiled.counters.push_back(
            {counter, origin == origins.end() ? policy + ".acct:1" : origin->second});
    }
    return compiled;
}

std::string backend_test_name(std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

UdpTraffic::UdpTraffic(const std::string& netns, std::uint16_t port) : port_(port) {
    // A socket stays in the namespace it was created in, whichever thread uses it later.
    const NetnsScope inside(netns);
    socket_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (socket_ < 0) {
        throw std::runtime_error("cannot create the test socket");
    }
}

UdpTraffic::~UdpTraffic() {
    stop();
    ::close(socket_);
}

bool UdpTraffic::send_one() {
    static const std::array<char, payload> data{};
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_);
    to.sin_addr.s_addr = htonl(0xC6120001); // 198.18.0.1
    if (::sendto(socket_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) != static_cast<ssize_t>(data.size())) {
        return false;
    }
    ++sent_;
    return true;
}

void UdpTraffic::send(std::uint64_t count) {
    for (std::uint64_t i = 0; i < count;) {
        i += send_one() ? 1 : 0;
    }
}

void UdpTraffic::start(std::uint64_t max_packets, double max_seconds) {
    running_ = true;
    thread_ = std::thread([this, max_packets, max_seconds] {
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::duration<double>(max_seconds);
        for (std::uint64_t n = 0; running_ && n < max_packets; ++n) {
            send_one();
            // Check the clock now and then only; the loop is the traffic source.
            if (n % 256 == 0 && std::chrono::steady_clock::now() > deadline) {
                break;
            }
        }
    });
}

void UdpTraffic::stop() {
    running_ = false;
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::uint64_t packets_of(const std::vector<CounterSample>& samples, const std::string& name) {
    for (const auto& sample : samples) {
        if (sample.counter == name) {
            return sample.packets;
        }
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
}

std::map<std::string, std::uint64_t> packets_by_counter(const std::vector<CounterSample>& samples) {
    std::map<std::string, std::uint64_t> out;
    for (const auto& sample : samples) {
        EXPECT_EQ(out.count(sample.counter), 0U) << sample.counter << " read twice";
        out[sample.counter] = sample.packets;
    }
    return out;
}

} // namespace acctc::runtime::testing
