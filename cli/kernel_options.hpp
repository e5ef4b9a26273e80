// What the kernel subcommands (apply, diff, counters, remove) share: --netns, --etc, and
// turning a POLICY argument (a file or a policy name) into what the runtime needs.
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"

#include <boost/program_options.hpp>
#include <memory>
#include <optional>
#include <string>

namespace acctc::cli {

struct KernelOptions {
    std::string netns; // /run/netns/NAME, empty for the current namespace
    std::string etc = "/etc";
    // nft, or iptables (as installed), iptables-legacy, iptables-nft: docs/iptables.md.
    std::string backend = "nft";
};

// Adds --netns NAME, --etc DIR, --backend KIND and --policy-dir DIR.
void add_kernel_options(boost::program_options::options_description& options,
                        KernelOptions& values);

// The kernel backend --backend names, working in --netns.
std::unique_ptr<runtime::Backend> make_kernel_backend(const KernelOptions& values);

// What holds a policy in the kernel, for messages: "table inet acctc_x" or "iptables chains
// acctc-x-*".
std::string kernel_object(const KernelOptions& values, const std::string& table);

// Compiles a policy file for the chosen backend, printing diagnostics; empty on policy errors.
std::optional<CompiledPolicy> compile_for_kernel(const std::string& path,
                                                 const KernelOptions& values);

// A POLICY argument: a file (find_policy_file: a path, or NAME.acct in the policy directories)
// is compiled for its policy name, anything else is taken as the name itself. Empty when the file
// has errors (already printed).
std::optional<std::string> policy_name_of(const std::string& argument, const KernelOptions& values);

// " in network namespace NAME", or nothing.
std::string where(const KernelOptions& values);

} // namespace acctc::cli
