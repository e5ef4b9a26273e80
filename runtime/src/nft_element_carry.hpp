// Lossless reloads of element-counted classes (docs/runtime.md, "Large classifications").
//
// A counting set whose elements the new policy changes (a key added, dropped or moved to
// another class, or the number of parts changed) is never edited in place: deleting a moved
// key's element would lose what it counted since it was read, and keeping it would move its
// history to the new class. The commit instead declares a new generation of the set under
// another name (NAME, NAME_g1, NAME_g2) whose elements start with the values the old ones
// held for the same key and class a moment before (the new element of a moved or new key starts
// at 0), and leaves the old set in place, unreferenced. Once no packet runs the old rules its
// values are final: what each old element counted beyond what its successor started with is
// added to its class's carry, and in the same transaction the old sets are deleted.
//
// Carries are elements of carry sets (`_carry<G>_<j>`, `type mark`, comment
// `acctc-elements carry`): no rule refers to them, so nothing counts into them and they change
// only by acctc's transactions (under the mutation lock) and by a reset. Their elements carry
// their class's name in the comment as counting elements do, so every reader adds them in.
#pragma once

#include "acctc/compile.hpp"
#include "nft_counter_dump.hpp"
#include "nft_netlink.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctc::runtime {

// A comment nft's parser takes back as it is, between double quotes.
bool quotable(std::string_view comment);

// Carry sets are data, never declared by a policy: a reload plans without them.
bool is_carry_set(const std::string& name);

// Read before the commit.
struct ElementReload {
    // Compiled counting set name -> the name the definition gives it (a kept set's live name,
    // or a new generation's).
    std::map<std::string, std::string> names;
    // nft commands run after the definition in the commit: the elements of new generations
    // whose key counted for the same class before, re-added with the values read now.
    std::string initial_values;
    // (old set, key as the kernel holds it) -> packets, bytes its successor started with.
    std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>> started;
    // The same as data, for a reload sent as one netlink batch (nft_element_swap.hpp): new
    // generation -> key -> the packets and bytes its element starts with (keys not listed start
    // at zero).
    std::map<std::string, std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>> starts;
    // New generation -> the one live generation of the same key types it follows ("" when the
    // set is new or several generations are live).
    std::map<std::string, std::string> predecessors;
    // Live counting sets kept as they are: their shape is the policy's (same key types, the
    // comment says; same elements), no listing needed.
    std::set<std::string> kept;
    // Counting sets no rule will use after the commit: carried, then deleted.
    std::vector<std::string> retired;
    std::vector<std::string> carry_sets; // the table's carry sets now
    // Counters whose elements keep a comment naming another origin than the policy's: their
    // origins must be recorded (counter_origins.hpp).
    std::set<std::string> moved;
    bool changed = false; // a set is new, renamed or retired: not a counters-only reload
};
ElementReload plan_element_reload(NftNetlink& netlink, const std::string& table,
                                  const std::vector<CompiledPolicy::ElementSet>& wanted,
                                  const std::vector<CompiledCounter>& origins);

// The definition with each counting set renamed as `names` says (declaration and lookups).
std::string with_set_names(std::string definition, const std::map<std::string, std::string>& names);

// A table's listing (nft text) as the compiled policy declares it: each counting set's
// generation under its compiled name, and no carry set (data, as counter values are), so that
// `acctc diff --live` right after a reload shows no difference. `counting`: the listed table's
// counting sets.
std::string listed_as_compiled(std::string listing, const std::set<std::string>& counting);

// After the commit, once no packet can still run the old rules (its values are final): the
// nft commands that replace the carry sets by ones holding the old carries plus what the
// retired sets and `objects` (counter objects of classes now counted by elements, deleted by
// the cleanup in the same transaction) counted, for every class in `wanted`, under the comment
// `sets` gives the class (labels that changed arrive with it). `removed` gets the final values
// of classes the policy dropped. Empty when nothing is to carry.
std::string carry_commands(NftNetlink& netlink, const std::string& table, const ElementReload& plan,
                           const std::vector<KernelCounter>& objects,
                           const std::set<std::string>& wanted,
                           const std::vector<CompiledPolicy::ElementSet>& sets,
                           std::vector<KernelCounter>& removed);

} // namespace acctc::runtime
