#include "support/process.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace acctc::recording::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::array<UniqueFd, 2> make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Reads what is available from the open fds until they close or the deadline passes.
void pump(std::array<UniqueFd*, 2> fds, std::array<std::string*, 2> sinks,
          Clock::time_point deadline, const std::string* stop_marker = nullptr) {
    for (;;) {
        std::array<pollfd, 2> polled{};
        int open = 0;
        for (std::size_t i = 0; i < 2; ++i) {
            polled.at(i) = {fds.at(i) != nullptr && *fds.at(i) ? fds.at(i)->get() : -1, POLLIN, 0};
            open += polled.at(i).fd >= 0 ? 1 : 0;
        }
        if (open == 0) {
            return;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return;
        }
        if (::poll(polled.data(), polled.size(), static_cast<int>(left.count())) < 0 &&
            errno != EINTR) {
            return;
        }
        for (std::size_t i = 0; i < 2; ++i) {
            if (polled.at(i).fd < 0 || polled.at(i).revents == 0) {
                continue;
            }
            std::array<char, 4096> buffer{};
            const auto n = ::read(polled.at(i).fd, buffer.data(), buffer.size());
            if (n <= 0) {
                fds.at(i)->reset();
            } else {
                sinks.at(i)->append(buffer.data(), static_cast<std::size_t>(n));
            }
        }
        if (stop_marker != nullptr && sinks[1]->find(*stop_marker) != std::string::npos &&
            sinks[1]->find('\n', sinks[1]->find(*stop_marker)) != std::string::npos) {
            return;
        }
    }
}

} // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& input) {
    auto in = make_pipe();
    auto out = make_pipe();
    auto err = make_pipe();
    std::vector<char*> args;
    std::vector<std::string> copies(argv);
    for (auto& arg : copies) {
        args.push_back(arg.data());
    }
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        ::dup2(in[0].get(), 0);
        ::dup2(out[1].get(), 1);
        ::dup2(err[1].get(), 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    in[0].reset();
    out[1].reset();
    err[1].reset();
    // Small inputs only (rulesets): they fit the pipe buffer, so this cannot deadlock.
    if (!input.empty() && ::write(in[1].get(), input.data(), input.size()) < 0) {
        throw std::runtime_error(std::string("write to child: ") + std::strerror(errno));
    }
    in[1].reset();
    out_ = std::move(out[0]);
    err_ = std::move(err[0]);
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::string ChildProcess::wait_for_stderr_line(const std::string& marker,
                                               std::chrono::milliseconds timeout) {
    std::string ignored_out;
    pump({&out_, &err_}, {&ignored_out, &err_seen_}, Clock::now() + timeout, &marker);
    const auto at = err_seen_.find(marker);
    if (at == std::string::npos) {
        return {};
    }
    const auto begin = err_seen_.rfind('\n', at);
    const auto end = err_seen_.find('\n', at);
    return err_seen_.substr(begin == std::string::npos ? 0 : begin + 1,
                            end - (begin == std::string::npos ? 0 : begin + 1));
}

void ChildProcess::signal(int number) const {
    if (pid_ > 0) {
        ::kill(pid_, number);
    }
}

ProcessResult ChildProcess::wait(std::chrono::milliseconds timeout) {
    ProcessResult result;
    result.err = err_seen_;
    const auto deadline = Clock::now() + timeout;
    pump({&out_, &err_}, {&result.out, &result.err}, deadline);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (Clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout) {
    ChildProcess child(argv, input);
    return child.wait(timeout);
}

std::string run_checked(const std::vector<std::string>& argv, const std::string& input) {
    auto result = run_process(argv, input);
    if (result.exit_code != 0) {
        std::ostringstream command;
        for (const auto& arg : argv) {
            command << arg << ' ';
        }
        throw std::runtime_error(command.str() + "exited " + std::to_string(result.exit_code) +
                                 ": " + result.err);
    }
    return result.out;
}

bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

} // namespace acctc::recording::testing
