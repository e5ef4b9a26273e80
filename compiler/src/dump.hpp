// Stable text dumps of the compiler's IRs, for `acctc compile --dump=check|lower` and the
// .check / .lower goldens beside every spec: a change to checking or lowering shows as a
// readable diff. Origins are printed without their directories, so dumps do not depend on
// where the tree lives.
#pragma once

#include "ir.hpp"
#include "rules.hpp"

#include <string>

namespace acctc {

// The checked policy (ir::Policy): every declaration with its typed clauses.
std::string dump_checked(const ir::Policy& policy);

// The lowered table (rules::Table): counter families and their kernel counters, sets, chains
// with their rules' typed conditions and statements.
std::string dump_lowered(const rules::Table& table);

} // namespace acctc
