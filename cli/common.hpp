// Helpers shared by the subcommands: reading and compiling a policy with diagnostics on stderr.
#pragma once

#include "acctc/compile.hpp"

#include <boost/program_options.hpp>
#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace acctc::cli {

// Raised for bad command lines; main() prints it and exits with exit_usage.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A time in strftime's `format`, as UTC or local time: "2026-11-27 16:05:00 CET".
std::string format_time(std::time_t time, const char* format, bool utc);

// Where a POLICY argument that is not a path is looked up as NAME.acct, first hit wins: each
// --policy-dir DIR, each directory of $ACCTC_POLICY_DIR (colon-separated), then /etc/acctc.
inline constexpr const char* default_policy_dir = "/etc/acctc";
inline constexpr const char* policy_dir_variable = "ACCTC_POLICY_DIR";

// Adds --policy-dir DIR (repeatable) to a command that takes POLICY arguments.
void add_policy_dir_option(boost::program_options::options_description& options);

// The file a POLICY argument names: "-" and existing paths are themselves; a bare NAME (no
// '/') is NAME.acct, or NAME when it already ends in .acct, in the policy directories above.
// Empty when there is no such file.
std::optional<std::string> find_policy_file(const std::string& argument);
// The same, or a UsageError saying where it looked.
std::string policy_file(const std::string& argument);

// Reads the policy file `path` names ("-" is stdin). Throws UsageError when it cannot be read.
std::string read_policy(const std::string& path);
// The name a policy read from PATH goes by in errors and origins: `<stdin>` for "-".
std::string source_name(const std::string& path);

// Compiles the file `path` names (find_policy_file) and prints diagnostics (with warnings) to
// stderr. Empty on policy errors.
std::optional<CompiledPolicy> compile_policy_file(const std::string& path,
                                                  const CompileOptions& options);

// The one argument that makes parse_command_line list the options instead of parsing: a line
// "--name" or "-n" per option, ending in '=' when it takes a value, and "POSITIONAL name" per
// positional argument. `acctc completion` reads the option tables this way.
inline constexpr const char* list_options_argument = "--list-options-for-completion";

// Parses args against options plus positionals, handles --help. Returns false when help was
// printed (the caller then exits 0). Throws UsageError on unknown or malformed options.
bool parse_command_line(const std::vector<std::string>& args, const char* usage,
                        const boost::program_options::options_description& options,
                        const boost::program_options::positional_options_description& positional,
                        boost::program_options::variables_map& values);

// What a watch cannot read comes and goes (a policy flushed, or half-loaded): each is said once
// when it comes and once when it goes, not at every poll.
class ComingAndGoing {
  public:
    struct Change {
        std::vector<std::string> came;
        std::vector<std::string> went;
    };
    // What is there now against what was there at the last update.
    Change update(std::set<std::string> now);

  private:
    std::set<std::string> known_;
};

} // namespace acctc::cli
