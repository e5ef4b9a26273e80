// iptables-restore inside a bench namespace, for the iptables backend's side of the
// comparison. Everything in that namespace belongs to the bench, so flushing is safe there.
#pragma once

#include "acctc/testbench/netns.hpp"

#include <string>
#include <vector>

namespace acctc::bench {

// `program` is "iptables" (as the host installed it: iptables-nft here) or "iptables-legacy", or
// their ip6tables counterparts for IPv6.
// Feeds `text` to `<program>-restore --noflush` in `netns`; throws with its messages.
void iptables_restore(const testbench::NamedNetns& netns, const std::string& text,
                      const std::string& program = "iptables");
// Empties the filter table of `netns` again (built-in chains accept, no rules, no chains).
void iptables_flush(const testbench::NamedNetns& netns, const std::string& program = "iptables");
// Runs `<program> ARGS...` in `netns` (e.g. -I FORWARD 1 -j ACCEPT); throws on failure.
// The ipsets of a policy's `split host` counters (CompiledPolicy::iptables->ipset), and their
// removal once no rule refers to them.
void ipset_restore(const testbench::NamedNetns& netns, const std::string& text);
void ipset_destroy(const testbench::NamedNetns& netns, const std::vector<std::string>& sets);
void iptables_command(const testbench::NamedNetns& netns, const std::string& program,
                      const std::vector<std::string>& args);

} // namespace acctc::bench
