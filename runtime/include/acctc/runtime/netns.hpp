// Scoped switch of the calling thread's network namespace; the old one is restored on exit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace acctc::runtime {

class NetnsScope {
  public:
    // Enters /run/netns/NAME (as `ip netns` names them). An empty name stays where we are.
    explicit NetnsScope(const std::string& name);
    // Enters a fresh, empty namespace that disappears when the scope ends.
    static NetnsScope isolated();
    ~NetnsScope();

    NetnsScope(NetnsScope&& other) noexcept;
    NetnsScope(const NetnsScope&) = delete;
    NetnsScope& operator=(const NetnsScope&) = delete;
    NetnsScope& operator=(NetnsScope&&) = delete;

  private:
    NetnsScope() = default;
    int previous_ = -1; // fd of the namespace to return to, -1 when nothing changed
};

// Identifies the calling thread's current network namespace (its inode number). The kernel
// reuses the number of a namespace that is gone: not a key for anything that outlives one.
unsigned long current_netns_id();

// The kernel's cookie of the calling thread's current network namespace: never reused until
// reboot. Empty when the kernel cannot tell (SO_NETNS_COOKIE is Linux 5.14 and later).
std::optional<std::uint64_t> current_netns_cookie();

} // namespace acctc::runtime
