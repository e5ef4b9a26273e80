// iptables-restore inside a bench namespace, for the iptables backend's side of the
// comparison. Everything in that namespace belongs to the bench, so flushing is safe there.
#pragma once

#include "acctc/testbench/netns.hpp"

#include <string>

namespace acctc::bench {

// Feeds `text` to `iptables-restore --noflush` in `netns`; throws with its messages.
void iptables_restore(const testbench::NamedNetns& netns, const std::string& text);
// Empties the filter table of `netns` again (built-in chains accept, no rules, no chains).
void iptables_flush(const testbench::NamedNetns& netns);

} // namespace acctc::bench
