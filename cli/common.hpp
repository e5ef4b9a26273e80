// Helpers shared by the subcommands: reading and compiling a policy with diagnostics on stderr.
#pragma once

#include "acctc/compile.hpp"

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

namespace acctc::cli {

// Raised for bad command lines; main() prints it and exits with exit_usage.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads a policy file ("-" is stdin). Throws UsageError when it cannot be read.
std::string read_policy(const std::string& path);

// Compiles and prints diagnostics (with warnings) to stderr. Empty on policy errors.
std::optional<CompiledPolicy> compile_policy_file(const std::string& path,
                                                  const CompileOptions& options);

// Parses args against options plus positionals, handles --help. Returns false when help was
// printed (the caller then exits 0). Throws UsageError on unknown or malformed options.
bool parse_command_line(const std::vector<std::string>& args, const char* usage,
                        const boost::program_options::options_description& options,
                        const boost::program_options::positional_options_description& positional,
                        boost::program_options::variables_map& values);

} // namespace acctc::cli
