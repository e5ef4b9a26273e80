// What the kernel subcommands (apply, diff, counters, remove, serve, record) share: --netns,
// --etc, --backend, and turning a POLICY argument (a file or a policy name) into what the
// runtime needs.
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"

#include <boost/program_options.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acctc::cli {

struct KernelOptions {
    std::string netns; // /run/netns/NAME, empty for the current namespace
    std::string etc = "/etc";
    // A name from runtime::backends(); empty: not given, the one acctc remembers applying the
    // policy with in the namespace, else nft (docs/iptables.md).
    std::string backend;
    // --hosts-in: where eligible `split host` counters count (docs/runtime.md, "Per-host
    // counters in BPF"): "auto" (TCX programs and pinned maps where the kernel allows, else nft
    // sets, or ipsets on iptables, with a notice), "nft" (sets; the default) or "bpf" (an error
    // where unavailable, iptables included).
    std::string hosts_in = "nft";
    // --classes-in: where eligible classifications count (docs/runtime.md, "Classes in BPF"):
    // the same three, with nft rules (iptables rules on iptables) in place of sets.
    std::string classes_in = "nft";
};

// Adds --netns NAME, --etc DIR, --backend NAME, --hosts-in auto|nft|bpf,
// --classes-in auto|nft|bpf and --policy-dir DIR.
void add_kernel_options(boost::program_options::options_description& options,
                        KernelOptions& values);

// --backend as given, resolved (runtime::resolved_backend: `iptables` is the variant installed),
// or none; a usage error listing the table's names for an unknown one.
std::optional<runtime::BackendKind> given_backend(const KernelOptions& values);
// --backend as typed (given, not empty).
runtime::BackendKind given_spelling(const KernelOptions& values);
// How messages name `backend`, resolved from --backend or remembered: what the user typed, and
// what it is when that differs ("iptables (iptables-nft)").
std::string backend_label(const KernelOptions& values, runtime::BackendKind backend);

// The backend that holds `policy`: --backend, else the one acctc remembers applying it with in
// the namespace, else nft. A usage error when it was applied with several and none is named.
runtime::BackendKind backend_for(const KernelOptions& values, const std::string& policy);

// A policy file compiled for the backend it goes to (backend_for its policy name).
struct KernelPolicy {
    CompiledPolicy compiled;
    runtime::BackendKind backend;
    SourceFile source; // the policy as read: kernel refusals are shown on its lines
};

// Compiles a policy (a file, or a NAME as find_policy_file finds it) for the kernel, printing
// diagnostics; empty on policy errors.
std::optional<KernelPolicy> compile_for_kernel(const std::string& argument,
                                               const KernelOptions& values);

// A POLICY argument: a file (find_policy_file: a path, or NAME.acct in the policy directories)
// is compiled for its policy name, anything else is taken as the name itself. Empty when the file
// has errors (already printed).
std::optional<std::string> policy_name_of(const std::string& argument, const KernelOptions& values);
// policy_name_of for each argument in place; false (diagnostics printed) when one does not compile.
bool name_policies(std::vector<std::string>& arguments, const KernelOptions& values);

// " in network namespace NAME", or nothing.
std::string where(const KernelOptions& values);

} // namespace acctc::cli
