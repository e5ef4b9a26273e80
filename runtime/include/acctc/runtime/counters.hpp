// Reading (and atomically zeroing) acctc's named counters, for `counters`, `serve` and `record`.
#pragma once

#include "acctc/runtime/counter_sample.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

// Reads the counters of one policy (its name, table acctc_<policy>) or, when policy is empty,
// of every acctc policy in the namespace. netns names /run/netns/NAME; empty means the calling
// thread's namespace, which is restored before returning. With reset, each counter is listed
// and zeroed in one kernel operation (NFT_MSG_GETOBJ_RESET): a packet counted while the reset
// runs shows up either in this result or in the next read, never in neither. Concurrent resets
// are serialised by a lock file under /run/acctc. Samples are sorted by policy, then counter.
// Throws RuntimeError: ErrorKind::unknown_table when the named policy is not applied.
std::vector<CounterSample> read_counters(const std::string& policy, const std::string& netns = {},
                                         bool reset = false);

} // namespace acctc::runtime
