#include "kernel_options.hpp"

#include "acctc/runtime/iptables_backend.hpp"
#include "common.hpp"

#include <filesystem>

namespace acctc::cli {

namespace po = boost::program_options;

void add_kernel_options(po::options_description& options, KernelOptions& values) {
    options.add_options()("netns", po::value(&values.netns),
                          "work in network namespace NAME (/run/netns/NAME, as ip-netns names it)")(
        "etc", po::value(&values.etc)->default_value("/etc"),
        "read passwd, group and services from this directory")(
        "backend", po::value(&values.backend)->default_value("nft"),
        "nft, or iptables (iptables-legacy, iptables-nft to pick one explicitly)");
    add_policy_dir_option(options);
}

namespace {

bool iptables_backend(const KernelOptions& values) {
    if (values.backend == "nft") {
        return false;
    }
    if (values.backend == "iptables" || values.backend == "iptables-legacy" ||
        values.backend == "iptables-nft") {
        return true;
    }
    throw UsageError("unknown backend '" + values.backend +
                     "' (expected nft, iptables, iptables-legacy or iptables-nft)");
}

} // namespace

std::unique_ptr<runtime::Backend> make_kernel_backend(const KernelOptions& values) {
    if (!iptables_backend(values)) {
        return runtime::make_backend(runtime::BackendKind::nftables, values.netns);
    }
    const auto variant = values.backend == "iptables-legacy" ? runtime::IptablesVariant::legacy
                         : values.backend == "iptables-nft"  ? runtime::IptablesVariant::nft
                                                             : runtime::IptablesVariant::automatic;
    return runtime::make_iptables_backend(values.netns, variant);
}

std::string kernel_object(const KernelOptions& values, const std::string& table) {
    return iptables_backend(values) ? "iptables chains " + table + "*" : "table inet " + table;
}

std::optional<CompiledPolicy> compile_for_kernel(const std::string& path,
                                                 const KernelOptions& values) {
    CompileOptions options;
    options.target = iptables_backend(values) ? Target::iptables : Target::nft;
    options.etc_dir = values.etc;
    return compile_policy_file(path, options);
}

std::optional<std::string> policy_name_of(const std::string& argument,
                                          const KernelOptions& values) {
    const auto file = find_policy_file(argument);
    if (file) {
        const auto compiled = compile_for_kernel(*file, values);
        if (!compiled) {
            return std::nullopt;
        }
        return compiled->policy_name;
    }
    return argument;
}

std::string where(const KernelOptions& values) {
    return values.netns.empty() ? std::string() : " in network namespace " + values.netns;
}

} // namespace acctc::cli
