// The runtime's one exception type: a message meant for the user, plus what kind of failure.
#pragma once

#include <stdexcept>
#include <string>

namespace acctc::runtime {

enum class ErrorKind {
    permission,    // no CAP_NET_ADMIN (or CAP_SYS_ADMIN for --netns)
    unsupported,   // the kernel lacks nf_tables or a feature the ruleset needs
    unknown_table, // the policy is not applied here
    netns,         // the named network namespace cannot be entered
    rejected,      // the kernel refused the ruleset (message carries file:line)
    system,        // anything else the kernel or libc reported
};

class RuntimeError : public std::runtime_error {
  public:
    RuntimeError(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

  private:
    ErrorKind kind_;
};

// Builds the message for a failed system call, mapping EPERM and friends to their kind.
[[noreturn]] void throw_system_error(const std::string& what, int error);

} // namespace acctc::runtime
