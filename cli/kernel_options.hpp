// What the kernel subcommands (apply, diff, counters, remove) share: --netns, --etc, and
// turning a POLICY argument (a file or a policy name) into what the runtime needs.
#pragma once

#include "acctc/compile.hpp"

#include <boost/program_options.hpp>
#include <optional>
#include <string>

namespace acctc::cli {

struct KernelOptions {
    std::string netns; // /run/netns/NAME, empty for the current namespace
    std::string etc = "/etc";
};

// Adds --netns NAME and --etc DIR.
void add_kernel_options(boost::program_options::options_description& options,
                        KernelOptions& values);

// Compiles a policy file for nftables, printing diagnostics; empty on policy errors.
std::optional<CompiledPolicy> compile_for_kernel(const std::string& path,
                                                 const KernelOptions& values);

// A POLICY argument: an existing file is compiled for its policy name, anything else is taken
// as the name itself. Empty when the file has errors (already printed).
std::optional<std::string> policy_name_of(const std::string& argument, const KernelOptions& values);

// " in network namespace NAME", or nothing.
std::string where(const KernelOptions& values);

} // namespace acctc::cli
