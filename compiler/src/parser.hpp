// Stage 1, parse: policy text -> ast::Policy, syntax errors -> diagnostics.
#pragma once

#include "acctc/diagnostics.hpp"
#include "ast.hpp"

namespace acctc {

// Parses every top-level statement; a statement with a syntax error is reported and skipped so
// that all errors of a file appear in one run.
ast::Policy parse_policy(const SourceFile& file, Diagnostics& diagnostics);

} // namespace acctc
