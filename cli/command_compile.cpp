// acctc compile / acctc check: policy in, ruleset (or only diagnostics) out.
#include "acctc/left_to_exit.hpp"
#include "acctc/recording/output_file.hpp"
#include "acctc/runtime/backend.hpp"
#include "command.hpp"
#include "common.hpp"

#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

struct PolicyOptions {
    std::string policy;
    std::string etc = "/etc";
    std::string target = "nft";
    std::string backend; // --backend, the name every kernel command takes: the same as --target
};

void add_policy_options(po::options_description& options, PolicyOptions& values) {
    static const std::string target_help =
        "the backend to compile for: " + runtime::backend_names();
    options.add_options()("target,t", po::value(&values.target)->default_value("nft"),
                          target_help.c_str())("backend", po::value(&values.backend),
                                               "the same as --target")(
        "etc", po::value(&values.etc)->default_value("/etc"),
        "read passwd, group and services from this directory (compile for "
        "another host)")("policy", po::value(&values.policy)->required(),
                         "policy file, a NAME in the policy directories, or - for standard input");
    add_policy_dir_option(options);
}

CompileOptions compile_options(const PolicyOptions& values) {
    CompileOptions options;
    options.etc_dir = values.etc;
    // Any backend's name: what it loads is what compile prints (iptables-legacy: iptables).
    const std::string& name = values.backend.empty() ? values.target : values.backend;
    const auto* backend = runtime::backend_named(name);
    if (backend == nullptr) {
        throw UsageError("unknown backend '" + name + "' (expected " + runtime::backend_names() +
                         ")");
    }
    if (!values.backend.empty() && values.target != "nft" && values.target != values.backend) {
        throw UsageError("--target " + values.target + " and --backend " + values.backend +
                         " name two backends; give one");
    }
    options.target = backend->target;
    options.leave_stages_to_exit = true; // compile and check exit right after
    return options;
}

int run_compile(const std::vector<std::string>& args) {
    PolicyOptions values;
    std::string output;
    std::string dump;
    po::options_description options("options");
    options.add_options()("dump", po::value(&dump),
                          "print an intermediate representation instead of the ruleset: check "
                          "(the checked policy) or lower (the lowered table with its counter "
                          "families)")(
        "output,o", po::value(&output),
        "write the ruleset to FILE (iptables: FILE.v4, FILE.v6 and, with peer "
        "sets, FILE.ipset)");
    add_policy_options(options, values);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(args,
                            "acctc compile [-o FILE] [--target|--backend BACKEND] [--etc DIR] "
                            "[--dump check|lower] POLICY",
                            options, positional, map)) {
        return exit_ok;
    }
    CompileOptions compile = compile_options(values);
    if (dump == "check") {
        compile.dump = Dump::check;
    } else if (dump == "lower") {
        compile.dump = Dump::lower;
    } else if (!dump.empty()) {
        throw UsageError("unknown dump '" + dump + "' (expected check or lower)");
    }
    auto result = compile_policy_file(values.policy, compile);
    if (!result) {
        return exit_policy_error;
    }
    const auto* compiled = &left_to_exit(std::move(*result));
    const std::string& text = compile.dump == Dump::none ? compiled->text : compiled->dump;
    if (output.empty() || output == "-") {
        std::cout << text << std::flush;
        return std::cout ? exit_ok : exit_usage;
    }
    // A regular file is replaced in one rename (never half a ruleset); /dev/stdout, a FIFO or
    // a device is written in place. Failures (ENOSPC...) reach main(): exit 1, like graph.
    if (compiled->iptables && compile.dump == Dump::none) {
        // Three loaders, three files: FILE.ipset (peer sets only), FILE.v4 and FILE.v6.
        const auto& ipt = *compiled->iptables;
        if (!ipt.ipset.empty()) {
            recording::write_output_file(output + ".ipset", ipt.ipset);
        }
        recording::write_output_file(output + ".v4", ipt.v4);
        recording::write_output_file(output + ".v6", ipt.v6);
        return exit_ok;
    }
    recording::write_output_file(output, text);
    return exit_ok;
}

int run_check(const std::vector<std::string>& args) {
    PolicyOptions values;
    po::options_description options("options");
    add_policy_options(options, values);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(args, "acctc check [--target|--backend BACKEND] [--etc DIR] POLICY",
                            options, positional, map)) {
        return exit_ok;
    }
    return compile_policy_file(values.policy, compile_options(values)) ? exit_ok
                                                                       : exit_policy_error;
}

const CommandRegistration compile_command{
    {"compile", "compile a policy into an nftables (or iptables) ruleset", &run_compile}};
const CommandRegistration check_command{
    {"check", "check a policy and report every error", &run_check}};

} // namespace
} // namespace acctc::cli
