// `split opener`: checking it against the counter it splits.
#pragma once

#include "acctc/diagnostics.hpp"
#include "ir.hpp"

namespace acctc {

// Only a followed connection has an opener, and only a side of this host or of an interface
// tells which end opened it.
void check_opener_split(const ir::Counter& counter, SourceRange split_range, Diagnostics& diag);

} // namespace acctc
