// Two hand-written policies for the same table that count the same traffic (UDP to
// 198.18.0.1:9) in `total`, plus one counter each that the other lacks.
#pragma once

#include "acctc/compile.hpp"

namespace acctc::runtime::testing {

// counters total, only_a; one base chain.
CompiledPolicy policy_a();
// counters total, only_b; a set, an object map holding only_b, a jump to a regular chain.
CompiledPolicy policy_b();
// A policy of its own (table acctc_other) counting the same traffic in `seen`.
CompiledPolicy policy_other();

} // namespace acctc::runtime::testing
