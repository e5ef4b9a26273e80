// A network namespace owned by one test: created with `ip netns add`, deleted when the fixture
// ends. The host's own namespace is never touched.
#pragma once

#include "acctc/recording/unique_fd.hpp"

#include <netinet/in.h>
#include <string>
#include <vector>

namespace acctc::recording::testing {

inline constexpr const char* namespace_prefix = "acctc-rec-";

class TestNamespace {
  public:
    // Name: acctc-rec-<pid>-<tag>. Removes namespaces left by crashed runs (dead pids) first,
    // then creates this one and brings its loopback up.
    explicit TestNamespace(const std::string& tag);
    ~TestNamespace();
    TestNamespace(const TestNamespace&) = delete;
    TestNamespace& operator=(const TestNamespace&) = delete;

    const std::string& name() const { return name_; }
    // Runs argv inside the namespace (ip netns exec) and returns its stdout; throws on failure.
    std::string exec(const std::vector<std::string>& argv) const;
    // Loads an nft ruleset inside the namespace.
    void load_nft(const std::string& ruleset) const;
    // An IPv4 socket (SOCK_DGRAM, SOCK_STREAM) that lives in this namespace, created through
    // runtime::NetnsScope; it stays there whichever thread uses it later.
    UniqueFd socket(int type) const;

  private:
    std::string name_;
};

// An IPv4 socket address; throws std::invalid_argument for a bad address.
sockaddr_in ipv4(const std::string& address, unsigned port);

// Sends `count` datagrams of `payload` bytes from `socket` to IPv4 `address`:`port`.
void send_datagrams(int socket, const std::string& address, unsigned port, unsigned count,
                    std::size_t payload);

// Whether this process may create namespaces (root with CAP_SYS_ADMIN and nft available).
bool can_use_namespaces();

} // namespace acctc::recording::testing
