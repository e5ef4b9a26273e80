// Test support for kernel tests: a private network namespace per test, UDP traffic inside it
// to 198.18.0.1 over its own loopback, and hand-written compiled policies.
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counter_sample.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace acctc::runtime::testing {

// Runs a shell command; returns its stdout. Fails the test (throws) when it exits non-zero.
std::string shell(const std::string& command);

// A backend's name as a test parameter's name, which gtest allows no '-' in.
std::string backend_test_name(std::string name);

// Every backend as the parameters of a test (INSTANTIATE_TEST_SUITE_P(Backends, SUITE,
// every_backend(), backend_param_name)).
inline auto every_backend() {
    return ::testing::Values(BackendKind::nftables, BackendKind::iptables_legacy,
                             BackendKind::iptables_nft);
}
inline std::string backend_param_name(const ::testing::TestParamInfo<BackendKind>& info) {
    return backend_test_name(std::string(backend_info(info.param).name));
}
// Runs a shell command; returns its exit status and stores stdout and stderr.
int shell_status(const std::string& command, std::string* out = nullptr,
                 std::string* err = nullptr);

// `ip netns add acctc-rt-<pid>-<n>` with lo up and 198.18.0.1/32 on it; deleted on destruction.
class TestNamespace {
  public:
    TestNamespace();
    ~TestNamespace();
    TestNamespace(const TestNamespace&) = delete;
    TestNamespace& operator=(const TestNamespace&) = delete;

    const std::string& name() const { return name_; }
    // Runs `nft ARGS` inside the namespace and returns its output.
    std::string nft(const std::string& arguments) const;

  private:
    std::string name_;
};

// Where the cgroup2 hierarchy is mounted: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified
// on hybrid ones. Throws when none is.
std::filesystem::path cgroup2_mount();

// A directory that must exist for a test (a cgroup a policy names: nft and xt_cgroup resolve
// paths at load time), created with its parents; the ones created are removed again.
class ScopedDirectory {
  public:
    explicit ScopedDirectory(const std::filesystem::path& path);
    ~ScopedDirectory();
    ScopedDirectory(const ScopedDirectory&) = delete;
    ScopedDirectory& operator=(const ScopedDirectory&) = delete;

  private:
    std::vector<std::filesystem::path> created_; // deepest first
};

// The packets of the named counter among samples (a test failure, and 0, when it is missing).
std::uint64_t packets_of(const std::vector<CounterSample>& samples, const std::string& name);

// Every counter's packets by its name (a test failure when a counter is read twice).
std::map<std::string, std::uint64_t> packets_by_counter(const std::vector<CounterSample>& samples);

// A policy as the compiler would hand it over, from hand-written nft text.
CompiledPolicy make_policy(const std::string& policy, const std::string& definition,
                           const std::vector<std::string>& counters);

// UDP datagrams from a socket inside the namespace to 198.18.0.1, port `port`.
class UdpTraffic {
  public:
    static constexpr std::size_t payload = 32;
    static constexpr std::uint64_t wire_bytes = payload + 8 + 20; // what nft counts (layer 3)

    UdpTraffic(const std::string& netns, std::uint16_t port);
    ~UdpTraffic();
    UdpTraffic(const UdpTraffic&) = delete;
    UdpTraffic& operator=(const UdpTraffic&) = delete;

    // Sends exactly `count` datagrams now.
    void send(std::uint64_t count);
    // Sends in the background until stop(), at most max_packets and max_seconds.
    void start(std::uint64_t max_packets, double max_seconds);
    void stop();
    std::uint64_t sent() const { return sent_.load(); }

  private:
    bool send_one();
    int socket_ = -1;
    std::uint16_t port_;
    std::atomic<std::uint64_t> sent_{0};
    std::atomic<bool> running_{false};
    std::thread thread_;
};

} // namespace acctc::runtime::testing
