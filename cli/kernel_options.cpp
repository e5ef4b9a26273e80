#include "kernel_options.hpp"

#include "common.hpp"

#include <filesystem>

namespace acctc::cli {

namespace po = boost::program_options;

void add_kernel_options(po::options_description& options, KernelOptions& values) {
    options.add_options()("netns", po::value(&values.netns),
                          "work in network namespace NAME (/run/netns/NAME, as ip-netns names it)")(
        "etc", po::value(&values.etc)->default_value("/etc"),
        "read passwd, group and services from this directory");
}

std::optional<CompiledPolicy> compile_for_kernel(const std::string& path,
                                                 const KernelOptions& values) {
    CompileOptions options;
    options.target = Target::nft;
    options.etc_dir = values.etc;
    return compile_policy_file(path, options);
}

std::optional<std::string> policy_name_of(const std::string& argument,
                                          const KernelOptions& values) {
    std::error_code error;
    if (argument == "-" || std::filesystem::is_regular_file(argument, error)) {
        const auto compiled = compile_for_kernel(argument, values);
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
