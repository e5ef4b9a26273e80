// `icmp` is ICMP of IPv4 and `icmpv6` of IPv6: a policy that drops echo requests of one family
// only lets the other family's pings in, which on a dual-stack host is rarely what was meant
// (the seed's supernode dropped strangers' IPv4 pings and let their IPv6 pings pass).
#pragma once

#include "acctc/diagnostics.hpp"
#include "ir.hpp"

namespace acctc {

void warn_single_family_pings(const ir::Policy& policy, Diagnostics& diagnostics);

} // namespace acctc
