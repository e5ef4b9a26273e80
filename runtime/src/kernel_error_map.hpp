// Leads nft's errors about a transaction back to the policy lines that produced them, through
// the `comment "file:line"` every compiled rule and object carries.
#pragma once

#include <string>
#include <vector>

namespace acctc::runtime {

struct KernelDiagnostic {
    std::string origin;  // policy "file:line"; empty when the line has no origin
    std::string message; // nft's message, e.g. "Could not process rule: No such file or directory"
    std::string statement; // the generated line, without its comment
};

// errors: nft's error text for transaction (the exact text that was run).
std::vector<KernelDiagnostic> map_kernel_errors(const std::string& errors,
                                                const std::string& transaction);

// "file:line: error: message\n    statement\n" per diagnostic; fallback names lines without
// an origin (e.g. the table).
std::string render_kernel_diagnostics(const std::vector<KernelDiagnostic>& diagnostics,
                                      const std::string& fallback);

// True when a message says the kernel lacks a feature rather than rejecting the ruleset.
bool is_missing_kernel_support(const std::string& message);

} // namespace acctc::runtime
