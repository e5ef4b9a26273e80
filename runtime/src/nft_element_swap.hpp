// A reload whose change is confined to counting sets (a class moved, added or dropped in a large
// classification) as one netlink transaction built with libnftnl: the changed sets' new
// generations with their elements, and the rules that look them up replaced by handle. Such a
// reload through libnftables cost seconds at 100,000 classes (its parse and evaluation of the
// whole definition, the kernel re-adding every element of every kept set); this costs what
// changes.
//
// The rules are not compiled here: a rule to replace is the kernel's own rule (dumped) with its
// lookups turned to the new generation. The chain record (chain_record.hpp) proves that this is
// the policy's rule: the chain's recorded digest is that of the new definition's block with the
// new generations named as the old ones, and the chain still holds the recorded rules.
//
// Atomic and lossless as the nft text reload is (docs/runtime.md): the new sets, their elements
// (starting at the values nft_element_carry.hpp read) and the replaced rules commit together,
// and the kernel makes a hash set's new elements visible in the same generation as the rules
// that use them; the old generations are carried and deleted by the cleanup as before.
#pragma once

#include "acctc/compile.hpp"
#include "nft_element_carry.hpp"
#include "nft_inventory.hpp"
#include "nft_netlink.hpp"
#include "nftnl_handles.hpp"
#include "reload_plan.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

struct ElementSwap {
    struct NewSet {
        nftnl::Set set; // the generation it follows, renamed, without elements
        const CompiledPolicy::ElementSet* compiled = nullptr;
        const std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>* starts = nullptr;
    };
    std::vector<NewSet> sets;
    struct Replace {
        std::string chain;
        nftnl::Rule rule; // the live rule (with its handle), its lookups renamed
    };
    std::vector<Replace> rules;
    // After the commit, once no packet runs the old rules: the old generations (after their
    // carries, nft_element_carry.hpp).
    std::vector<CleanupStep> cleanup;
};

// The swap for a reload of `definition` (with the set names of `elements`), or nothing when the
// reload changes more than counting sets and the rules that name them: counter objects added or
// removed, other stateful objects or flowtables, a set other than a counting set's generation
// declared, replaced or dropped, a new generation without exactly one live generation of the
// same key types before it, or one with the interval flag (its elements would show after its
// rules), a chain added, dropped or changed beyond the names of those sets, a chain the record
// does not prove, or a rule to replace that holds an anonymous set. `declared_sets`: the sets
// the definition declares.
std::optional<ElementSwap>
plan_element_swap(NftNetlink& netlink, const std::string& table, const TableInventory& existing,
                  const ElementReload& elements, const SetPlan& sets, const CounterPlan& counters,
                  const std::set<std::string>& declared_sets, const std::string& definition,
                  const LiveChains& live, const std::vector<CompiledPolicy::ElementSet>& wanted);

// The rules of one chain, in order, as the kernel holds them (handles too); empty when a
// concurrent change kept interrupting the dump.
std::vector<nftnl::Rule> live_rules(NftNetlink& netlink, const std::string& table,
                                    const std::string& chain);

// Elements per NEWSETELEM message: at most ~300 bytes each (a key of at most 64 bytes, a
// comment of at most 128, a counter), so a message stays within NftNetlink's slot and its list
// within a netlink attribute's 64 KiB; each message makes the kernel look its set up by name.
constexpr std::size_t elements_per_message = 48;

// A NEWSETELEM message at buffer adding elements[first, first + elements_per_message) of a
// counting set to `set` (set_id: its NFTA_SET_ID when created in the same transaction, or 0),
// each with its comment and, when `starts` lists its key, a counter starting at those values.
nlmsghdr* counting_elements_message(
    char* buffer, std::uint32_t sequence, const std::string& table, const std::string& set,
    std::uint32_t set_id, const std::vector<CompiledPolicy::ElementSet::Element>& elements,
    std::size_t first,
    const std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>* starts);

// Commits the swap in one transaction, all or nothing. Throws RuntimeError (ErrorKind::rejected
// when the kernel refused a message: nothing changed) naming what the kernel refused.
void commit_element_swap(NftNetlink& netlink, const std::string& table, const ElementSwap& swap);

} // namespace acctc::runtime
