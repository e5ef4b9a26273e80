// Where a counter's hook sees other packets than the wire carries, said at compile time with
// the counter's position and name (docs/counting.md lists every difference).
#pragma once

#include "acctc/diagnostics.hpp"
#include "ir.hpp"

#include <set>
#include <string>

namespace acctc {

// `egress`: the backend counts leaving packets at egress where it can (nft); the warnings are
// the differences counter_wire_sides() finds for it. `corrected`: counters whose merged packets
// a BPF program corrects (bpf_wire.hpp): no segmentation-offload warning.
void warn_wire_differences(const ir::Policy& policy, bool egress,
                           const std::set<std::string>& corrected, Diagnostics& diagnostics);

} // namespace acctc
