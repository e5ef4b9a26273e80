// acctc apply: load a policy into the kernel in one transaction, keeping counter values.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/device_offloads.hpp"
#include "acctc/runtime/errors.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"

#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

void print_report(const runtime::ApplyReport& report, const CompiledPolicy& policy,
                  const KernelOptions& values) {
    std::cout << (report.dry_run ? "would load" : "loaded") << " policy " << policy.policy_name
              << " into " << kernel_object(values, report.table) << where(values) << ": "
              << report.kept.size() << " counters kept, " << report.added.size() << " new, "
              << report.removed.size() << " removed"
              << (report.created ? (values.backend == "nft" ? " (new table)" : " (new chains)")
                                 : "")
              << "\n";
    if (report.chains_recreated) {
        std::cout << "note: a base chain's hook or priority changed, so the chains were "
                     "re-created; packets crossing at that instant may be counted by both "
                     "versions or by neither\n";
    }
    for (const auto& note : runtime::set_change_notes(report)) {
        std::cout << note << "\n";
    }
    for (const auto& removed : report.removed) {
        std::cout << (report.dry_run ? "would remove" : "removed") << " counter "
                  << removed.sample.counter << (report.dry_run ? " (now " : " (final ")
                  << removed.sample.packets << " packets, " << removed.sample.bytes << " bytes)"
                  << (removed.origin.empty() ? "" : " from " + removed.origin) << "\n";
    }
}

int run_apply(const std::vector<std::string>& args) {
    std::string path;
    bool dry_run = false;
    KernelOptions values;
    po::options_description options("options");
    options.add_options()("dry-run,n", po::bool_switch(&dry_run),
                          "check the transaction in the kernel without committing it")(
        "policy", po::value(&path)->required(), "policy file, or - for standard input");
    add_kernel_options(options, values);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(args, "acctc apply [--dry-run] [--netns NAME] [--backend KIND] POLICY",
                            options, positional, map)) {
        return exit_ok;
    }
    const auto policy = compile_for_kernel(path, values);
    if (!policy) {
        return exit_policy_error;
    }
    try {
        const auto backend = make_kernel_backend(values);
        print_report(backend->apply(*policy, dry_run), *policy, values);
        for (const auto& note : runtime::receive_offload_notes(*policy, values.netns)) {
            std::cout << note << "\n";
        }
    } catch (const runtime::RuntimeError& error) {
        if (error.kind() != runtime::ErrorKind::rejected) {
            throw;
        }
        // Already "file:line: error: ..." lines, like the compiler's own diagnostics.
        std::cerr << error.what() << "\n";
        return exit_policy_error;
    }
    return exit_ok;
}

const CommandRegistration registration{
    {"apply", "load a policy into the kernel (atomic, counters kept)", &run_apply}};

} // namespace
} // namespace acctc::cli
