// Where the cost of acctc's ruleset goes on the packet path: steps between the empty base chain
// and the whole ruleset, each adding one piece, derived from acctc's own compiled text so that
// they are the same rules, hook and priority:
//   compare: the base chain's rules without their jumps (the interface compare only);
//   jump:    the rules as compiled, jumping to a classification chain left empty;
//   lookup:  the classification's map turned into a set of the same keys (the lookup and the
//            return, no counter update).
// acctc's ruleset is then the lookup plus the counter.
// For `split host` (a jump to a host chain, docs/language.md "Per-host counters") and element
// counters (docs/language.md "Large classifications: element counters") the steps are
//   compare and jump as above (the host or classification chain left empty);
//   dispatch: with parts, the hash and the verdict map going to the parts' chains left empty;
//   lookup:   the whole ruleset with its sets declared without `counter` (the update or lookup
//             finds the key, no element counter).
#pragma once

#include <optional>
#include <string>

namespace acctc::bench {

struct BreakdownRulesets {
    std::string compare;
    std::string jump;
    std::string lookup;
    std::string dispatch; // sets in parts only; empty otherwise
};

// nullopt when the text is not one base chain jumping to one chain whose first rule is a
// `counter name KEY map { ... }` classification, a `split host` chain's rule or an element
// counters' dispatch or lookup.
std::optional<BreakdownRulesets> breakdown_rulesets(const std::string& compiled);

} // namespace acctc::bench
