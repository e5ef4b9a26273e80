// Runs the iptables and ipset tools: argv, text on standard input, both outputs captured. The
// child inherits the calling thread's network namespace (the backend's NetnsScope).
#pragma once

#include "acctc/runtime/iptables_backend.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

struct ProcessResult {
    int status = -1; // exit status, or -1 when killed by a signal
    std::string out;
    std::string err;
};

// A program of one iptables: "iptables-save", "ip6tables-legacy-restore", "iptables-nft-save".
std::string iptables_program(IptablesVariant variant, std::string_view tool,
                             std::string_view action);

// Which variant `<tool>-restore` as installed is ("iptables-restore v1.8.9 (nf_tables)" or
// "(legacy)"); nothing when it does not say (before 1.8, or not installed).
std::optional<IptablesVariant> installed_variant(std::string_view tool);

// Throws RuntimeError(system) when the program cannot be started at all.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {});

} // namespace acctc::runtime
