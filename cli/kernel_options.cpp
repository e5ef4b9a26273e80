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

namespace {

// --hosts-in and --classes-in: every kernel command takes them (counters and the others ignore
// them): a typo is a usage error there too, not a silent exit 0.
po::typed_value<std::string>* where_counted(const char* option, std::string& value) {
    return po::value(&value)->default_value("nft")->notifier([option](const std::string& given) {
        if (given != "auto" && given != "nft" && given != "bpf") {
            throw UsageError("unknown --" + std::string(option) + " '" + given +
                             "' (expected auto, nft or bpf)");
        }
    });
}

} // namespace

void add_kernel_options(po::options_description& options, KernelOptions& values) {
    static const std::string backend_help =
        runtime::backend_names() + "; default: the one the policy was applied with here, else nft";
    options.add_options()("netns", po::value(&values.netns),
                          "work in network namespace NAME (/run/netns/NAME, as ip-netns names it)")(
        "etc", po::value(&values.etc)->default_value("/etc"),
        "read passwd, group and services from this directory")(
        "backend", po::value(&values.backend), backend_help.c_str())(
        "hosts-in", where_counted("hosts-in", values.hosts_in),
        "where eligible split host counters count: nft sets (nft, the default), BPF programs "
        "where the kernel allows, else nft sets (auto), only BPF (bpf: an error where "
        "unavailable)")(
        "classes-in", where_counted("classes-in", values.classes_in),
        "where eligible classifications (one device and direction, TCP and UDP destination "
        "ports, or networks of one side) count: nft rules (nft, the default), a BPF program where "
        "the kernel allows, else nft rules (auto), only BPF (bpf: an error where unavailable)");
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
                           const std::set<std::string>& nft_hosts = {},
                           const std::set<std::string>& nft_classes = {}) {
    CompileOptions options;
    options.target = runtime::backend_info(backend).target;
    options.etc_dir = values.etc;
    options.bpf_hosts = values.hosts_in != "nft";
    options.nft_hosts = nft_hosts;
    options.bpf_classes = values.classes_in != "nft";
    options.nft_classes = nft_classes;
    return compile_source(source_name(path), text, options);
}

// What --hosts-in and --classes-in move to BPF, as messages name it and where it stays otherwise.
struct BpfMove {
    const char* option;                // "--hosts-in"
    std::string KernelOptions::*given; // its value
    const char* noun;                  // what one of them is (in the plural with an s)
    const char* in_nft;                // where nft counts them instead
    const char* in_iptables;           // where the iptables backends count them
    const char* iptables_why;          // why iptables cannot count them in BPF
};
constexpr std::size_t hosts_move = 0;
constexpr std::size_t classes_move = 1;
constexpr BpfMove bpf_moves[] = {
    {"--hosts-in", &KernelOptions::hosts_in, "per-host counter", "nft sets", "ipsets",
     "counts per host only in ipsets"},
    {"--classes-in", &KernelOptions::classes_in, "classification", "nft rules", "iptables rules",
     "counts classifications only in its rules"},
};

// `names` cannot count in BPF: an error with `bpf` (`refused` after "cannot count NAMES in
// BPF"), else a notice that they count `instead` (`noted` after it).
void refuse_or_note(const BpfMove& move, const KernelOptions& values,
                    const std::vector<std::string>& names, const std::string& instead,
                    const std::string& refused, const std::string& noted) {
    std::string listed;
    for (const auto& name : names) {
        listed += (listed.empty() ? "" : ", ") + name;
    }
    if (values.*move.given == "bpf") {
        throw runtime::RuntimeError(runtime::ErrorKind::unsupported,
                                    std::string(move.option) + " bpf: cannot count " + listed +
                                        " in BPF" + refused);
    }
    const bool several = names.size() > 1;
    std::cerr << "acctc: notice: " << move.noun << (several ? "s " : " ") << listed << " count"
              << (several ? "" : "s") << " in " << instead << noted << "\n";
}

// The per-host counters and classifications planned in BPF that the kernel here cannot count
// there (bpf_host_probe.hpp) go back to nft with a notice (auto), or are an error (bpf); on
// iptables, which has no BPF counting, the same for every one the plan would have moved.
CompileResult with_bpf_fallback(CompileResult result, const std::string& path,
                                const std::string& text, const KernelOptions& values,
                                runtime::BackendKind backend) {
    if (!result.output) {
        return result;
    }
    const CompiledPolicy& compiled = *result.output;
    const std::vector<std::string>* unavailable[] = {&compiled.bpf_hosts_unavailable,
                                                     &compiled.bpf_classes_unavailable};
    for (std::size_t m = 0; m < std::size(bpf_moves); ++m) {
        if (!unavailable[m]->empty()) {
            const std::string why = ": the " + backend_label(values, backend) + " backend " +
                                    bpf_moves[m].iptables_why + " (BPF needs --backend nft)";
            refuse_or_note(bpf_moves[m], values, *unavailable[m], bpf_moves[m].in_iptables, why,
                           why);
        }
    }
    // One probe for both: each user's programs, and which move and name it is.
    std::vector<std::vector<runtime::BpfProgramSite>> users;
    std::vector<std::pair<std::size_t, std::string>> named;
    for (const auto& counter : compiled.bpf_hosts) {
        users.push_back(runtime::bpf_program_sites(counter));
        named.emplace_back(hosts_move, counter.declared);
    }
    for (const auto& classify : compiled.bpf_classes) {
        users.push_back(runtime::bpf_program_sites(classify));
        named.emplace_back(classes_move, classify.classify);
    }
    if (users.empty()) {
        return result;
    }
    const auto refusals = runtime::bpf_refusals(values.netns, users);
    std::map<std::pair<std::size_t, std::string>, std::vector<std::string>> by_reason;
    std::set<std::string> to_nft[std::size(bpf_moves)];
    for (std::size_t i = 0; i < users.size(); ++i) {
        const auto& [m, name] = named[i];
        if (!refusals[i].empty() && to_nft[m].insert(name).second) {
            by_reason[{m, refusals[i]}].push_back(name);
        }
    }
    if (by_reason.empty()) {
        return result;
    }
    for (const auto& [key, names] : by_reason) {
        const auto& [m, reason] = key;
        refuse_or_note(bpf_moves[m], values, names, bpf_moves[m].in_nft, " here: " + reason,
                       ": BPF is not available here (" + reason + ")");
    }
    return compile_text(path, text, values, backend, to_nft[hosts_move], to_nft[classes_move]);
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
