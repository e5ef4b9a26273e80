// The filter table as iptables-save -c prints it, and what acctc owns in it: the chains whose
// names start with a policy's prefix ("acctc-<tag>-") and the rules in INPUT, OUTPUT and
// FORWARD that jump there (comment "acctc:policy:<name>").
#pragma once

#include "acctc/quota_comment.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

struct SavedRule {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::string chain;
    std::string spec; // everything after "-A <chain>", e.g. " -i eth0 -j acctc-x-input"
};

struct SavedTable {
    std::vector<std::string> chains; // in the order iptables-save lists them
    std::vector<SavedRule> rules;
};

SavedTable parse_save(const std::string& text);

// The text of a rule's `--comment "..."`, empty without one.
std::string comment_of(const std::string& spec);

// Policies applied here: name -> chain prefix, learned from the jump rules.
std::map<std::string, std::string> applied_policies(const SavedTable& table);

// The jump rules into chains with this prefix.
std::vector<SavedRule> owned_jumps(const SavedTable& table, const std::string& prefix);
std::vector<std::string> owned_chains(const SavedTable& table, const std::string& prefix);

// The counter name of a counting rule (comment "acctc:<counter>[ <metadata>]", no -j or -g),
// or empty.
std::string counter_of(const SavedRule& rule);
// The same from a rule's comment and whether it has a target, however the rule was read.
std::string counter_named(const std::string& comment, bool has_target);
// The metadata after the counter name in a counting rule's comment: family, labels and origin
// (acctc/counter_labels.hpp); empty for rules written before it existed.
std::string counter_metadata(const std::string& comment);

// The rules `iptables -S CHAIN -v` prints ("-A chain ... -c packets bytes [-j target]"), as
// iptables-save -c would have given them; other lines are skipped.
std::vector<SavedRule> parse_listing(const std::string& text);

// A rule's values with the counter acctc attributes them to (empty: none).
struct CountedRule {
    std::string chain;
    std::string counter;
    std::string metadata; // the comment after the name (acctc/counter_labels.hpp); older: empty
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

std::vector<CountedRule> counted_rules(const std::vector<SavedRule>& rules);

// A quota's charge rule (docs/iptables.md, "Quotas"): the nfacct object it charges
// (`-m nfacct --nfacct-name NAME`) and what its comment says the quota is.
struct ChargeRule {
    std::string chain;
    std::string object;
    QuotaIdentity identity;
};
std::optional<ChargeRule> charge_rule(const SavedRule& rule);

// A restore text or a save, reduced to what a diff should compare: acctc's chains and jumps of
// one prefix, "-A" lines grouped by chain, protocol names as numbers, no counters or comments
// ("#" lines), jumps as "-A INPUT ...".
std::string normalised_rules(const std::string& text, const std::string& prefix);

} // namespace acctc::runtime
