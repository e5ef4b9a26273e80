// Scoped switch of the calling thread's network namespace; the old one is restored on exit.
#pragma once

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

// Identifies the calling thread's current network namespace (its inode number).
unsigned long current_netns_id();

} // namespace acctc::runtime
