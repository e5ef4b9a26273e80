// Processes inside namespaces: fork, join the namespace, take on the scenario's identity,
// run a function, talk to the bench over a line-based control channel. A child dies with its
// parent (PR_SET_PDEATHSIG) and is killed and reaped when its handle goes away.
#pragma once

#include "acctc/testbench/netns.hpp"
#include "acctc/testbench/unique_fd.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace acctc::testbench {

// Who a peer runs as: numeric ids, so nothing on the host (passwd, group) changes.
struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> supplementary;
    // A cgroup v2 directory (absolute path) the process moves into before dropping root.
    std::string cgroup;
    std::string describe() const;
};

// One end of a pair of pipes carrying newline-terminated messages.
class ControlChannel {
  public:
    ControlChannel(UniqueFd read_end, UniqueFd write_end);
    void send(const std::string& line);
    // The next line, or nothing when the timeout passes or the other side closed.
    std::optional<std::string> receive(std::chrono::milliseconds timeout);
    int read_fd() const { return read_.get(); }
    int write_fd() const { return write_.get(); }

  private:
    UniqueFd read_;
    UniqueFd write_;
    std::string pending_;
};

class ChildProcess {
  public:
    using Body = std::function<void(ControlChannel&)>;

    // The body runs in the child after setns() and the identity switch; returning exits 0,
    // an exception sends "error: <what>" on the channel and exits 1.
    static ChildProcess spawn(const std::string& label, const NamedNetns& netns,
                              const Identity& identity, const Body& body);
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ~ChildProcess();

    const std::string& label() const { return label_; }
    pid_t pid() const { return pid_; }
    ControlChannel& channel() { return channel_; }

    // Waits for the exit status; kills the child when the timeout passes (then returns -1).
    int wait(std::chrono::milliseconds timeout);

  private:
    ChildProcess(std::string label, pid_t pid, UniqueFd pidfd, ControlChannel channel);
    std::string label_;
    pid_t pid_ = -1;
    UniqueFd pidfd_;
    ControlChannel channel_;
    bool reaped_ = false;
};

} // namespace acctc::testbench
