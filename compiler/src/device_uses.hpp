// Which network devices a policy names with `via`, and what counts through each: apply checks
// them against the target namespace, since a misspelt device compiles and then counts nothing.
#pragma once

#include "acctc/compile.hpp"
#include "ir.hpp"

#include <vector>

namespace acctc {

// One entry per device name (a trailing '*' kept as the wildcard it is), in first-use order,
// each with the counters, classifications and verdict rules that match on it.
std::vector<DeviceUse> device_uses(const ir::Policy& policy);

} // namespace acctc
