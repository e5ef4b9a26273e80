// A kernel's refusal of a policy the compiler accepted, shown as the compiler's diagnostics are.
#pragma once

#include "acctc/source.hpp"

#include <string>

namespace acctc::cli {

// The backends' refusal text ("file:line: error: message" lines, each maybe followed by the
// generated statement: runtime/src/kernel_error_map.hpp, iptables' rejection) with every line
// that names a line of `source` rendered as a diagnostic: file:line:col-col, the source line,
// carets under the statement on it. Other lines stay as they are.
std::string positioned_refusal(const std::string& message, const SourceFile& source);

} // namespace acctc::cli
