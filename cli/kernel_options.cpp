#include "kernel_options.hpp"

#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/bpf_host_probe.hpp"
#include "acctc/runtime/errors.hpp"
#include "common.hpp"

#include <filesystem>
#include <iostream>
#include <map>
#include <set>

namespace acctc::cli {

namespace po = boost::program_options;

void add_kernel_options(po::options_description& options, KernelOptions& values) {
    static const std::string backend_help =
        runtime::backend_names() + "; default: the one the policy was applied with here, else nft";
    options.add_options()("netns", po::value(&values.netns),
                          "work in network namespace NAME (/run/netns/NAME, as ip-netns names it)")(
        "etc", po::value(&values.etc)->default_value("/etc"),
        "read passwd, group and services from this directory")(
        "backend", po::value(&values.backend), backend_help.c_str())(
        "hosts-in",
        po::value(&values.hosts_in)->default_value("nft")->notifier([](const std::string& value) {
            // Every kernel command takes it (counters and the others ignore it): a typo
            // is a usage error there too, not a silent exit 0.
            if (value != "auto" && value != "nft" && value != "bpf") {
                throw UsageError("unknown --hosts-in '" + value + "' (expected auto, nft or bpf)");
            }
        }),
        "where eligible split host counters count: nft sets (nft, the default), BPF programs "
        "where the kernel allows, else nft sets (auto), only BPF (bpf: an error where "
        "unavailable)");
    add_policy_dir_option(options);
}

std::optional<runtime::BackendKind> given_backend(const KernelOptions& values) {
    if (values.backend.empty()) {
        return std::nullopt;
    }
    return runtime::resolved_backend(given_spelling(values));
}

runtime::BackendKind given_spelling(const KernelOptions& values) {
    if (const auto* backend = runtime::backend_named(values.backend)) {
        return backend->kind;
    }
    throw UsageError("unknown backend '" + values.backend + "' (expected " +
                     runtime::backend_names() + ")");
}

std::string backend_label(const KernelOptions& values, runtime::BackendKind backend) {
    return values.backend.empty() ? std::string(runtime::backend_info(backend).name)
                                  : runtime::backend_label(given_spelling(values), backend);
}

runtime::BackendKind backend_for(const KernelOptions& values, const std::string& policy) {
    if (const auto given = given_backend(values)) {
        return *given;
    }
    const auto remembered = runtime::remembered_backends(values.netns, policy);
    if (remembered.size() > 1) {
        std::string names;
        for (const auto kind : remembered) {
            names +=
                (names.empty() ? "" : ", ") + runtime::applied_label(values.netns, kind, policy);
        }
        throw UsageError("policy " + policy + " was applied" + where(values) + " with " + names +
                         ": say which with --backend");
    }
    return remembered.empty() ? runtime::BackendKind::nftables : remembered.front();
}

namespace {

CompileResult compile_text(const std::string& path, const std::string& text,
                           const KernelOptions& values, runtime::BackendKind backend,
                           const std::set<std::string>& nft_hosts = {}) {
    CompileOptions options;
    options.target = runtime::backend_info(backend).target;
    options.etc_dir = values.etc;
    options.bpf_hosts = values.hosts_in != "nft";
    options.nft_hosts = nft_hosts;
    return compile_source(source_name(path), text, options);
}

// The per-host counters planned in BPF that the kernel here cannot count there (bpf_host_probe.hpp)
// go back to nft sets with a notice (--hosts-in auto), or are an error (--hosts-in bpf).
CompileResult with_bpf_fallback(CompileResult result, const std::string& path,
                                const std::string& text, const KernelOptions& values,
                                runtime::BackendKind backend) {
    if (result.output && !result.output->bpf_hosts_unavailable.empty()) {
        // iptables counts per host only in ipsets: required BPF is an error, auto a notice.
        std::string names;
        for (const auto& counter : result.output->bpf_hosts_unavailable) {
            names += (names.empty() ? "" : ", ") + counter;
        }
        const std::string why = "the " + backend_label(values, backend) +
                                " backend counts per host only in ipsets (BPF needs --backend nft)";
        if (values.hosts_in == "bpf") {
            throw runtime::RuntimeError(runtime::ErrorKind::unsupported,
                                        "--hosts-in bpf: cannot count " + names +
                                            " in BPF: " + why);
        }
        const bool several = result.output->bpf_hosts_unavailable.size() > 1;
        std::cerr << "acctc: notice: per-host counter" << (several ? "s " : " ") << names
                  << " count" << (several ? "" : "s") << " in ipsets: " << why << "\n";
    }
    if (!result.output || result.output->bpf_hosts.empty()) {
        return result;
    }
    const auto& plan = result.output->bpf_hosts;
    const auto refusals = runtime::bpf_host_refusals(values.netns, plan);
    std::map<std::string, std::vector<std::string>> by_reason; // reason -> counters
    std::set<std::string> to_nft;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        if (!refusals[i].empty() && to_nft.insert(plan[i].declared).second) {
            by_reason[refusals[i]].push_back(plan[i].declared);
        }
    }
    if (to_nft.empty()) {
        return result;
    }
    for (const auto& [reason, counters] : by_reason) {
        std::string names;
        for (const auto& counter : counters) {
            names += (names.empty() ? "" : ", ") + counter;
        }
        if (values.hosts_in == "bpf") {
            throw runtime::RuntimeError(runtime::ErrorKind::unsupported,
                                        "--hosts-in bpf: cannot count " + names +
                                            " in BPF here: " + reason);
        }
        std::cerr << "acctc: notice: per-host counter" << (counters.size() > 1 ? "s " : " ")
                  << names << " count" << (counters.size() > 1 ? "" : "s")
                  << " in nft sets: BPF is not available here (" << reason << ")\n";
    }
    return compile_text(path, text, values, backend, to_nft);
}

} // namespace

std::optional<KernelPolicy> compile_for_kernel(const std::string& argument,
                                               const KernelOptions& values) {
    const auto given = given_backend(values);
    const std::string path = policy_file(argument);
    const std::string text = read_policy(path); // once: "-" is standard input
    auto result = compile_text(path, text, values, given.value_or(runtime::BackendKind::nftables));
    auto backend = given.value_or(runtime::BackendKind::nftables);
    if (!given && result.output) {
        // The policy's name is in the file; once known, the backend it was applied with here
        // decides what to compile for.
        backend = backend_for(values, result.output->policy_name);
        if (runtime::backend_info(backend).target != Target::nft) {
            result = compile_text(path, text, values, backend);
        }
    }
    result = with_bpf_fallback(std::move(result), path, text, values, backend);
    render_all(std::cerr, result.source, result.diagnostics);
    if (!result.output) {
        return std::nullopt;
    }
    return KernelPolicy{std::move(*result.output), backend, std::move(result.source)};
}

std::optional<std::string> policy_name_of(const std::string& argument,
                                          const KernelOptions& values) {
    // NAME may end in .acct (acctc(1)), also where it names a policy as applied.
    constexpr std::string_view suffix = ".acct";
    const bool is_name = argument != "-" && argument.find('/') == std::string::npos;
    const std::string as_applied =
        is_name && argument.size() > suffix.size() && argument.ends_with(suffix)
            ? argument.substr(0, argument.size() - suffix.size())
            : argument;
    const auto file = find_policy_file(argument);
    if (!file) {
        return as_applied;
    }
    const auto result =
        compile_text(*file, read_policy(*file), values,
                     given_backend(values).value_or(runtime::BackendKind::nftables));
    if (result.output) {
        // Not its warnings: they are about what apply loads, and apply said them. A read, the
        // save timer or the exporter repeating them on every run is noise.
        return result.output->policy_name;
    }
    if (is_name) {
        // The applied policy's file edited into an error before the reload: the policy in the
        // kernel is still the one to read, save (the apply unit's ExecStop) or remove.
        const auto name = result.source.printable_name();
        std::cerr << "acctc: warning: " << name << " does not compile (acctc check " << name
                  << " says why): acting on the policy applied as '" << as_applied << "'\n";
        return as_applied;
    }
    render_all(std::cerr, result.source, result.diagnostics);
    return std::nullopt;
}

bool name_policies(std::vector<std::string>& arguments, const KernelOptions& values) {
    for (auto& argument : arguments) {
        const auto name = policy_name_of(argument, values);
        if (!name) {
            return false;
        }
        argument = *name;
    }
    return true;
}

std::string where(const KernelOptions& values) {
    return values.netns.empty() ? std::string() : " in network namespace " + values.netns;
}

} // namespace acctc::cli
