// Runs helper programs (ip, nft, curl, promtool, acctc) with captured output and a time limit.
#pragma once

#include "acctc/recording/unique_fd.hpp"

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace acctc::recording::testing {

struct ProcessResult {
    int exit_code = -1; // 128 + signal when killed
    std::string out;
    std::string err;
};

// A started child whose stdout and stderr are pipes; killed (SIGKILL) if still running when
// destroyed, so a failing test never leaves it behind.
class ChildProcess {
  public:
    explicit ChildProcess(const std::vector<std::string>& argv, const std::string& input = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Reads stderr until a line containing `marker` arrives; returns that line ("" on timeout
    // or end of output).
    std::string wait_for_stderr_line(const std::string& marker, std::chrono::milliseconds timeout);
    void signal(int number) const;
    // Collects the remaining output and the exit status; kills the child after `timeout`.
    ProcessResult wait(std::chrono::milliseconds timeout);

  private:
    pid_t pid_ = -1;
    UniqueFd out_;
    UniqueFd err_;
    std::string err_seen_;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs it and throws std::runtime_error (with its stderr) unless it exits 0.
std::string run_checked(const std::vector<std::string>& argv, const std::string& input = {});

// Whether `program` is an executable somewhere on PATH.
bool on_path(const std::string& program);

} // namespace acctc::recording::testing
