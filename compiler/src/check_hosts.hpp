// `split host`: reading the clause and checking it against the counter it splits. The checker
// hands in how to resolve a network item (aliases and literals live there).
#pragma once

#include "acctc/diagnostics.hpp"
#include "ast.hpp"
#include "ir.hpp"

#include <functional>
#include <optional>

namespace acctc {

// Adds one `within` item's networks; false (after reporting) when it names none.
using NetworkResolver = std::function<bool(const ast::Item&, IntervalSet& v4, IntervalSet& v6)>;

// The largest set the kernel takes: NFTA_SET_DESC_SIZE is a u32 (2^32 is read back as no
// bound at all, measured on 6.18 with nft 1.0.6).
inline constexpr std::uint64_t max_host_set_size = 0xffffffffULL;

std::optional<ir::HostSplit> read_host_split(const ast::SplitHostClause& clause, Diagnostics& diag,
                                             const NetworkResolver& resolve);

// What only the whole counter tells: a side that names no host, splits it cannot combine with.
void check_host_split(const ir::Counter& counter, SourceRange split_range, Diagnostics& diag);

} // namespace acctc
