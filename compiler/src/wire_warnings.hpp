// Where a counter's hook sees other packets than the wire carries, said at compile time with
// the counter's position and name (docs/counting.md lists every difference).
#pragma once

#include "acctc/diagnostics.hpp"
#include "ir.hpp"

namespace acctc {

void warn_wire_differences(const ir::Policy& policy, Diagnostics& diagnostics);

} // namespace acctc
