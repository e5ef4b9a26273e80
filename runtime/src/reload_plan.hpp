// The nft text of a lossless reload: everything in acctc's table is replaced in one
// transaction except the named counters, base chains and unchanged sets, which nft re-adds in
// place and so keep their values, hooks and elements.
#pragma once

#include "nft_inventory.hpp"
#include "set_shape.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

struct CounterPlan {
    std::vector<std::string> kept;    // in the table and in the policy
    std::vector<std::string> added;   // only in the policy
    std::vector<std::string> removed; // only in the table: unreferenced after the reload
};

CounterPlan plan_counters(const std::vector<std::string>& existing,
                          const std::vector<std::string>& wanted);

// Names a definition declares at table level.
struct DeclaredNames {
    std::map<std::string, bool> chains; // name -> is a base chain (has a hook line)
    std::set<std::string> sets;         // sets and maps
    std::set<std::string> objects;      // stateful objects other than counters
};
DeclaredNames declared_names(const std::string& definition);

// Named sets and maps of the table against those the definition declares.
struct SetPlan {
    std::vector<std::string> kept; // declared again with the same shape: re-added in place
    std::vector<std::pair<std::string, std::string>> replaced; // name, what changed
    std::vector<std::string> removed;                          // not declared any more
    // Kept name -> its elements are packet state (dynamic or timeout) or carry counts (counting
    // sets, whose changed elements nft_element_counters.hpp deletes): left alone. Other kept
    // sets are flushed in the commit and refilled from the definition, in the same generation.
    std::map<std::string, bool> keep;
};

// live: the shapes of the table's sets as nft lists them (a set missing there is replaced).
SetPlan plan_sets(const std::vector<TableInventory::Set>& existing,
                  const std::map<std::string, SetShape>& live,
                  const std::map<std::string, SetShape>& wanted);

// What chain_record.hpp proves about the live chains.
struct LiveChains {
    // Chains holding exactly the rules the definition declares (origins aside).
    std::set<std::string> unchanged;
    // Their rules' handles, in the order the definition declares the rules.
    std::map<std::string, std::vector<std::uint64_t>> rules;
};

// True when a reload of `definition` changes nothing in `existing` but which named counters
// exist: its chains are the table's (base or not as before) and all in live.unchanged, its
// sets are the table's, all kept with elements that are packet state (sets.keep), and neither
// side has other stateful objects (the kernel updates a quota re-added in place) or flowtables.
// Re-adding such a definition leaves every chain, rule, set and kept counter as it is: the
// reload is the counters added and removed (nft_reload_batch.hpp), none of which a rule uses.
bool only_counters_change(const TableInventory& existing, const std::string& definition,
                          const SetPlan& sets, const LiveChains& live);

// One step of a reload's cleanup, as data: the cleanup runs as one netlink batch
// (nft_reload_batch.hpp), which needs no libnftables (and so no fetch of every object of the
// table), and reads as nft commands (cleanup_text) in tests and messages.
struct CleanupStep {
    enum class Kind {
        flush_chain,
        delete_set,
        delete_map,
        delete_chain,
        rename_chain,
        delete_object
    };
    Kind kind = Kind::delete_chain;
    std::string name;
    std::string new_name;          // rename_chain
    std::uint32_t object_type = 0; // delete_object: NFT_OBJECT_*, counters too
};

// The steps as nft commands, one a line.
std::string cleanup_text(const std::string& table, const std::vector<CleanupStep>& steps);

struct ReloadTransactions {
    // Run before the commit when not empty: fills the regular chains the commit will jump to,
    // new ones under their own name and changed ones as NAME.next, while nothing jumps to them,
    // so that the kernel has made their anonymous sets' elements visible before any packet can
    // meet them (see below). unstage undoes it when the commit then fails.
    std::string stage;
    std::string unstage;
    // Swaps the ruleset atomically: rules flushed and re-added, the definition loaded.
    // Counters, objects, chains and kept sets that are declared again are re-added in place,
    // so they keep their state; sets and maps not kept are deleted and re-created. With
    // staging, the jumps go to the staged chains and the changed ones are left empty.
    std::string commit;
    // Deletes what the commit left unreferenced (removed counters, sets, regular chains,
    // objects) and gives staged chains their names back; run once no packet can still be
    // inside the old rules, which may use them. With staging, the old rules of the regular
    // chains that change or go are flushed here, not in the commit: the kernel looks up set
    // elements in the generation current at the lookup, so a packet that entered an old rule
    // before the commit and looks up its anonymous set after it would find the elements the
    // commit deleted with the rule gone, and fall through to the otherwise counter.
    std::vector<CleanupStep> cleanup;
    bool renames = false; // the cleanup renames staged chains: names are in flux until then
};

// existing: what the table holds now (nullptr when it is new). Base chains declared again,
// base or not as before, are kept when keep_chains: re-creating one registers a second hook
// for a moment, and a packet crossing the old and the new one during the commit would be
// counted twice or not at all. Without keep_chains they are re-created (needed when a hook or
// priority changes, which the kernel cannot apply to a live chain). kept_sets is
// SetPlan::keep; sets declared again but not in it are deleted and re-created in the commit.
//
// A re-added rule brings a new anonymous set or map, and the kernel makes the elements of a
// new interval or concatenated one (rbtree, pipapo) visible only after the rules that use it:
// a packet in that moment missed its class and landed in `otherwise`. So the rules of chains
// in live.unchanged are left alone rather than flushed and re-added, and with `stage` the
// regular chains that are new or change are filled in a transaction of their own first
// (changed ones as NAME.next, or NAME.next1, ... when a chain has that name)
// (ReloadTransactions::stage); the commit then only turns the jumps to them (a base chain left
// alone gets just its jump rules replaced, by handle). Neither applies when the commit
// re-creates a set (the rules using it must go). kept_counters: counters the table holds and
// keeps, left out of the stage and the commit (re-added in place, they would change nothing);
// empty when a counter is relabelled (its declaration is the commit's business then).
ReloadTransactions reload_transactions(const std::string& table, const TableInventory* existing,
                                       const std::string& definition,
                                       const std::vector<std::string>& removed_counters,
                                       bool keep_chains,
                                       const std::map<std::string, bool>& kept_sets = {},
                                       const LiveChains& live = {}, bool stage = false,
                                       const std::set<std::string>& kept_counters = {});

// Chain name -> the lines of its block (opening and closing lines too), from nft text.
std::map<std::string, std::string> chain_blocks(const std::string& text);

// The definition without the rules of the given chains (their declarations and hook lines
// stay, so nft finds them existing and leaves them as they are).
std::string without_rules_of(const std::string& definition, const std::set<std::string>& chains);

// A name as nft commands take it (1.0 does not accept quoted names after `delete chain`);
// throws for names nft could not parse back.
std::string identifier(const std::string& name);

} // namespace acctc::runtime
