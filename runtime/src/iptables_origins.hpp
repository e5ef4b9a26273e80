// The current origin of iptables counting rules a reload kept (docs/iptables.md): a kept rule
// keeps its comment, and with it the file:line of the apply that created it, so apply records
// under /run/acctc which origin each counter has now, next to the comment the live rule has.
// Readers use a recorded origin only while the live rule still has that comment.
#pragma once

#include "acctc/runtime/backend.hpp"
#include "iptables_save.hpp"

#include <map>
#include <string>
#include <vector>

namespace acctc::runtime {

struct RecordedOrigin {
    std::string metadata; // the live counting rule's comment after "acctc:<counter> "
    std::string origin;   // file:line as the policy applied last has it
};

// After a commit: `live` are the counting rules as the kernel holds them now (metadata only),
// `compiled` as the policy just applied wrote them; one record per policy prefix.
void record_iptables_origins(const std::string& prefix, const std::vector<CountedRule>& live,
                             const std::vector<CountedRule>& compiled);
// counter -> its recorded origin; empty when nothing (usable) is recorded.
std::map<std::string, RecordedOrigin> recorded_iptables_origins(const std::string& prefix);
void forget_iptables_origins(const std::string& prefix);
// Readings of the counting rules `live` (chains of `prefix`) get their recorded origin where
// the live rule's comment is still the one recorded.
void use_recorded_origins(const std::string& prefix, const std::vector<CountedRule>& live,
                          std::vector<CounterReading>& readings);

} // namespace acctc::runtime
