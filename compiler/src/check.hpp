// Stage 2, check: ast::Policy -> ir::Policy. Resolves aliases, users, groups and services,
// range-checks numbers, applies the scope and direction defaults, and reports every semantic
// error with its position.
#pragma once

#include "acctc/diagnostics.hpp"
#include "ast.hpp"
#include "host_database.hpp"
#include "ir.hpp"

namespace acctc {

ir::Policy check_policy(const SourceFile& file, const ast::Policy& policy,
                        const HostDatabase& hosts, Diagnostics& diagnostics);

// Longest accepted identifiers, so every generated kernel name stays well inside nft's and
// iptables' limits (and a 10,000-character name is a clear error, not a kernel failure).
inline constexpr std::size_t max_name_length = 64;
inline constexpr std::size_t max_counter_name_length = 128;

} // namespace acctc
