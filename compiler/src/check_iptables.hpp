// Pass check-iptables: reports, at the policy construct, what the iptables backend cannot
// express, so `--target iptables` never loads a silently different meaning:
//   - passive collection (iptables has no netdev ingress hook);
//   - an interface name ending in '+' (iptables reads a trailing '+' as a wildcard);
//   - two counters whose shortened chain names collide (see iptables_names.hpp).
#pragma once

#include "acctc/diagnostics.hpp"
#include "acctc/source.hpp"
#include "ir.hpp"

namespace acctc {

void check_iptables(const SourceFile& source, const ir::Policy& policy, Diagnostics& diagnostics);

} // namespace acctc
