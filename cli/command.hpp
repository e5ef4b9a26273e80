// Subcommands register themselves here; main() only dispatches.
#pragma once

#include <string>
#include <vector>

namespace acctc::cli {

// Exit statuses shared by every subcommand.
inline constexpr int exit_ok = 0;
inline constexpr int exit_policy_error = 1; // also "different" for diff
inline constexpr int exit_usage = 2;

struct Command {
    const char* name;
    const char* summary;
    // args excludes the program and command names.
    int (*run)(const std::vector<std::string>& args);
    bool hidden = false; // left out of the overview (completion)
};

const std::vector<Command>& commands();

struct CommandRegistration {
    explicit CommandRegistration(Command command);
};

} // namespace acctc::cli
