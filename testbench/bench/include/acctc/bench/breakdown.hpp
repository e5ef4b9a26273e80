// Where the cost of acctc's ruleset goes on the packet path: steps between the empty base chain
// and the whole ruleset, each adding one piece, derived from acctc's own compiled text so that
// they are the same rules, hook and priority:
//   compare: the base chain's rules without their jumps (the interface compare only);
//   jump:    the rules as compiled, jumping to a classification chain left empty;
//   lookup:  the classification's map turned into a set of the same keys (the lookup and the
//            return, no counter update).
// acctc's ruleset is then the lookup plus the counter.
#pragma once

#include <optional>
#include <string>

namespace acctc::bench {

struct BreakdownRulesets {
    std::string compare;
    std::string jump;
    std::string lookup;
};

// nullopt when the text is not one base chain jumping to one chain whose first rule is a
// `counter name KEY map { ... }` classification (per-host policies, for example).
std::optional<BreakdownRulesets> breakdown_rulesets(const std::string& compiled);

} // namespace acctc::bench
