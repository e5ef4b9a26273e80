// Stage 3b, quotas: after lowering, every rule that counts a quota's counter gets, right before
// it, rules with the same conditions that charge the quota's objects: the warning object, then
// the limit object (with `drop` when the quota enforces). Before, not after: a counting rule in
// a classify chain returns, and a quota rule has no verdict that could stop the count.
// Without warn_objects (iptables: one nfacct object per quota, docs/iptables.md) only the
// limit is charged, and its identity carries the warning level.
#pragma once

#include "ir.hpp"
#include "rules.hpp"

#include <vector>

namespace acctc {

void place_quotas(const std::vector<ir::Quota>& quotas, rules::Table& table,
                  bool warn_objects = true);

} // namespace acctc
