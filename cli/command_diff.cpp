// acctc diff: the ruleset a policy would load against the kernel's (or another policy's), both
// normalised by nft itself, as a unified diff. Exit 0 equal, 1 different, 2 trouble.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/unified_diff.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"

#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

int run_diff(const std::vector<std::string>& args) {
    std::string path;
    std::string against;
    bool live = false;
    KernelOptions values;
    po::options_description options("options");
    options.add_options()("against", po::value(&against),
                          "compare with the policy in OTHER.acct instead of the kernel")(
        "live", po::bool_switch(&live), "compare with what the kernel has loaded (default)")(
        "policy", po::value(&path)->required(),
        "policy file, a NAME in the policy directories, or - for standard input");
    add_kernel_options(options, values);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(
            args,
            "acctc diff [--live | --against OTHER.acct] [--netns NAME] [--backend NAME] POLICY",
            options, positional, map)) {
        return exit_ok;
    }
    if (live && !against.empty()) {
        throw UsageError("--live and --against exclude each other");
    }
    try {
        const auto loaded = compile_for_kernel(path, values);
        if (!loaded) {
            return exit_usage;
        }
        const CompiledPolicy* policy = &loaded->compiled;
        const auto backend = runtime::make_backend(loaded->backend, values.netns);
        std::string old_text;
        std::string old_label;
        if (!against.empty()) {
            KernelOptions same_backend = values; // both sides compiled alike
            same_backend.backend = runtime::backend_info(loaded->backend).name;
            const auto other = compile_for_kernel(against, same_backend);
            if (!other) {
                return exit_usage;
            }
            old_text = backend->planned_ruleset(other->compiled);
            old_label = against;
        } else {
            old_text = backend->live_ruleset(policy->policy_name);
            const std::string object = runtime::kernel_object(
                loaded->backend, policy->iptables ? policy->iptables->prefix : policy->table_name);
            old_label = "kernel: " + object + where(values);
            if (old_text.empty()) {
                std::cerr << "acctc diff: " << object << " is not loaded" << where(values)
                          << "; comparing with nothing\n";
            }
        }
        const std::string diff = runtime::unified_diff(old_text, backend->planned_ruleset(*policy),
                                                       old_label, path, 3, runtime::without_origin);
        std::cout << diff << std::flush;
        return diff.empty() ? exit_ok : exit_policy_error;
    } catch (const UsageError&) {
        throw;
    } catch (const std::exception& error) {
        std::cerr << "acctc diff: " << error.what() << "\n";
        return exit_usage;
    }
}

const CommandRegistration registration{
    {"diff", "show what applying a policy would change (unified diff)", &run_diff}};

} // namespace
} // namespace acctc::cli
