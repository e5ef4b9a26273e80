// Named network namespaces exactly as `ip netns add` makes them: an empty file under
// /run/netns bind-mounted over a fresh namespace, so `ip netns list` and `ip netns exec` see
// them. Every name carries the run's prefix; leftovers of dead runs are removed at start.
#pragma once

#include "acctc/testbench/unique_fd.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace acctc::testbench {

inline const std::filesystem::path netns_run_dir = "/run/netns";
inline constexpr std::string_view run_prefix_stem = "acctc-tb-";

// "acctc-tb-<pid>-<start>-": the start time (clock ticks since boot, from /proc/PID/stat)
// tells a live run from a dead one whose pid was reused.
struct RunPrefix {
    int pid = 0;
    unsigned long long start_ticks = 0;

    static RunPrefix current();
    std::string text() const;
    // Parses the prefix part of a namespace name; false if it is not one of ours.
    static bool parse(std::string_view name, RunPrefix& out);
    bool owner_alive() const;
};

// Start time of a process in clock ticks since boot; 0 when it does not exist.
unsigned long long process_start_ticks(int pid);

class NamedNetns {
  public:
    // Creates /run/netns/NAME over a new, empty network namespace. NAME must be new.
    static NamedNetns create(const std::string& name);
    NamedNetns(NamedNetns&& other) noexcept;
    NamedNetns& operator=(NamedNetns&&) = delete;
    NamedNetns(const NamedNetns&) = delete;
    ~NamedNetns();

    const std::string& name() const { return name_; }
    std::filesystem::path path() const { return netns_run_dir / name_; }
    // An open handle on the namespace, for setns() and IFLA_NET_NS_FD.
    int fd() const { return fd_.get(); }

  private:
    NamedNetns(std::string name, UniqueFd fd);
    std::string name_;
    UniqueFd fd_;
};

// Unmounts and unlinks /run/netns/NAME; quiet when it is already gone.
void remove_named_netns(const std::string& name);

// Names under /run/netns that start with acctc-tb- and whose owning run is dead.
std::vector<std::string> stale_namespaces();
// Removes them (and kills processes still living in them); returns what was removed.
std::vector<std::string> remove_stale_namespaces();

// Moves the calling thread into a namespace for the guard's lifetime, then back. Sockets
// opened meanwhile stay bound to that namespace, which is how everything here reaches inside
// without touching the root namespace.
class ScopedNetns {
  public:
    explicit ScopedNetns(int netns_fd);
    explicit ScopedNetns(const NamedNetns& netns) : ScopedNetns(netns.fd()) {}
    ScopedNetns(const ScopedNetns&) = delete;
    ScopedNetns& operator=(const ScopedNetns&) = delete;
    ~ScopedNetns();

  private:
    UniqueFd original_;
};

} // namespace acctc::testbench
