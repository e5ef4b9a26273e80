#include "iptables_exec.hpp"

#include "acctc/runtime/errors.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acctc::runtime {
namespace {

std::pair<UniqueFd, UniqueFd> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw_system_error("pipe", errno);
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A tool that exits before reading all its input would kill us with SIGPIPE: the signal is
// blocked for this thread while we feed it, and a pending one is consumed afterwards.
class SigpipeBlock {
  public:
    SigpipeBlock() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
    }
    ~SigpipeBlock() {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
        }
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  private:
    sigset_t pipe_{};
    sigset_t previous_{};
};

} // namespace

std::string iptables_program(IptablesVariant variant, std::string_view tool,
                             std::string_view action) {
    const std::string_view kind = variant == IptablesVariant::legacy ? "-legacy"
                                  : variant == IptablesVariant::nft  ? "-nft"
                                                                     : "";
    return std::string(tool) + std::string(kind) + "-" + std::string(action);
}

std::optional<IptablesVariant> installed_variant(std::string_view tool) {
    ProcessResult result;
    try {
        result = run_process({iptables_program(IptablesVariant::automatic, tool, "restore"), "-V"});
    } catch (const RuntimeError&) {
        return std::nullopt; // not installed: the commands that run it say so
    }
    if (result.out.find("(nf_tables)") != std::string::npos) {
        return IptablesVariant::nft;
    }
    if (result.out.find("(legacy)") != std::string::npos) {
        return IptablesVariant::legacy;
    }
    return std::nullopt;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input) {
    auto [in_read, in_write] = make_pipe();
    auto [out_read, out_write] = make_pipe();
    auto [err_read, err_write] = make_pipe();
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw_system_error("fork", errno);
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        ::dup2(in_read.get(), 0);
        ::dup2(out_write.get(), 1);
        ::dup2(err_write.get(), 2);
        ::execvp(args[0], args.data());
        static constexpr char message[] = "cannot run program\n";
        [[maybe_unused]] auto ignored = ::write(2, message, sizeof message - 1);
        ::_exit(127);
    }
    in_read = UniqueFd();
    out_write = UniqueFd();
    err_write = UniqueFd();
    ProcessResult result;
    std::size_t written = 0;
    const SigpipeBlock no_sigpipe;
    if (input.empty()) {
        in_write = UniqueFd();
    }
    // One loop for all three pipes, so a tool that writes much while we still feed it never
    // deadlocks against us.
    while (out_read || err_read) {
        pollfd fds[3];
        nfds_t count = 0;
        for (const UniqueFd* fd : {&out_read, &err_read}) {
            if (*fd) {
                fds[count++] = {fd->get(), POLLIN, 0};
            }
        }
        if (in_write) {
            fds[count++] = {in_write.get(), POLLOUT, 0};
        }
        if (::poll(fds, count, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_system_error("poll", errno);
        }
        for (nfds_t i = 0; i < count; ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            if (in_write && fds[i].fd == in_write.get()) {
                const ssize_t n =
                    ::write(in_write.get(), input.data() + written, input.size() - written);
                if (n < 0 && errno != EINTR && errno != EAGAIN) {
                    in_write = UniqueFd(); // the tool stopped reading; its status tells why
                } else if (n > 0) {
                    written += static_cast<std::size_t>(n);
                }
                if (written == input.size()) {
                    in_write = UniqueFd();
                }
                continue;
            }
            UniqueFd& source = fds[i].fd == out_read.get() ? out_read : err_read;
            std::string& sink = fds[i].fd == out_read.get() ? result.out : result.err;
            char buffer[65536];
            const ssize_t n = ::read(source.get(), buffer, sizeof buffer);
            if (n > 0) {
                sink.append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                source = UniqueFd();
            }
        }
    }
    in_write = UniqueFd();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw_system_error("waitpid", errno);
        }
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (result.status == 127 && result.err == "cannot run program\n") {
        throw RuntimeError(ErrorKind::unsupported,
                           "cannot run " + argv.front() +
                               " (is the iptables/ipset package installed?)");
    }
    return result;
}

} // namespace acctc::runtime
