#include "acctc/testbench/process.hpp"

#include "acctc/testbench/cleanup.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acctc::testbench {
namespace {

// Runs in the child only: anything that fails here ends the child, never the bench.
void enter_child_context(pid_t parent, const NamedNetns& netns, const Identity& identity) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) { // the parent died before the line above took effect
        ::_exit(1);
    }
    // The bench's SIGINT handler unmounts namespaces; a child must not run it.
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
        ::signal(signal_number, SIG_DFL);
    }
    if (::setns(netns.fd(), CLONE_NEWNET) != 0) {
        throw_errno("setns into " + netns.name());
    }
    if (!identity.cgroup.empty()) {
        const UniqueFd procs(
            ::open((identity.cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
        if (!procs.valid() || ::write(procs.get(), "0", 1) != 1) {
            throw_errno("join cgroup " + identity.cgroup);
        }
    }
    if (::setgroups(identity.supplementary.size(), identity.supplementary.data()) != 0 ||
        ::setresgid(identity.gid, identity.gid, identity.gid) != 0 ||
        ::setresuid(identity.uid, identity.uid, identity.uid) != 0) {
        throw_errno("switch to " + identity.describe());
    }
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw_errno("pipe");
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

} // namespace

std::string Identity::describe() const {
    return "uid " + std::to_string(uid) + " gid " + std::to_string(gid) +
           (cgroup.empty() ? "" : " in " + cgroup);
}

ControlChannel::ControlChannel(UniqueFd read_end, UniqueFd write_end)
    : read_(std::move(read_end)), write_(std::move(write_end)) {}

void ControlChannel::send(const std::string& line) {
    const std::string message = line + "\n";
    std::size_t written = 0;
    while (written < message.size()) {
        const auto count =
            ::write(write_.get(), message.data() + written, message.size() - written);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            throw_errno("write to control channel");
        }
        written += static_cast<std::size_t>(count);
    }
}

std::optional<std::string> ControlChannel::receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const auto newline = pending_.find('\n'); newline != std::string::npos) {
            std::string line = pending_.substr(0, newline);
            pending_.erase(0, newline + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd readable{read_.get(), POLLIN, 0};
        const int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            return std::nullopt;
        }
        char buffer[4096];
        const auto count = ::read(read_.get(), buffer, sizeof buffer);
        if (count <= 0) {
            return std::nullopt; // closed: the other side exited
        }
        pending_.append(buffer, static_cast<std::size_t>(count));
    }
}

ChildProcess ChildProcess::spawn(const std::string& label, const NamedNetns& netns,
                                 const Identity& identity, const Body& body) {
    cleanup::install_signal_handlers();
    auto [to_child_read, to_child_write] = make_pipe();
    auto [to_parent_read, to_parent_write] = make_pipe();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw_errno("fork " + label);
    }
    if (pid == 0) {
        to_child_write.reset();
        to_parent_read.reset();
        ControlChannel channel(std::move(to_child_read), std::move(to_parent_write));
        int status = 0;
        try {
            enter_child_context(parent, netns, identity);
            body(channel);
        } catch (const std::exception& error) {
            try {
                channel.send(std::string("error: ") + error.what());
            } catch (...) {
            }
            status = 1;
        }
        ::_exit(status); // never run the parent's exit handlers or destructors
    }
    cleanup::register_child(pid);
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.valid()) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        cleanup::unregister_child(pid);
        throw_errno("pidfd_open " + label);
    }
    return ChildProcess(label, pid, std::move(pidfd),
                        ControlChannel(std::move(to_parent_read), std::move(to_child_write)));
}

ChildProcess::ChildProcess(std::string label, pid_t pid, UniqueFd pidfd, ControlChannel channel)
    : label_(std::move(label)), pid_(pid), pidfd_(std::move(pidfd)), channel_(std::move(channel)) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : label_(std::move(other.label_)), pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)), channel_(std::move(other.channel_)),
      reaped_(std::exchange(other.reaped_, true)) {}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
    if (reaped_) {
        return -1;
    }
    pollfd exited{pidfd_.get(), POLLIN, 0};
    int ready = 0;
    do {
        ready = ::poll(&exited, 1, static_cast<int>(timeout.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
        ::kill(pid_, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    cleanup::unregister_child(pid_);
    if (ready == 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ChildProcess::~ChildProcess() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        cleanup::unregister_child(pid_);
    }
}

} // namespace acctc::testbench
