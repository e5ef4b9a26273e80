#include "nft_counter_read.hpp"

#include "acctc/runtime/netns.hpp"
#include "counter_name_cache.hpp"
#include "nft_counter_lookup.hpp"
#include "nft_inventory.hpp"

#include <map>

namespace acctc::runtime {
namespace {

std::vector<std::string> names_of(const std::vector<KernelCounter>& counters) {
    std::vector<std::string> names;
    names.reserve(counters.size());
    for (const auto& counter : counters) {
        names.push_back(counter.name);
    }
    return names;
}

// Learns the names with a dump, remembering them (as verified at the generation the dump saw)
// only when nothing changed meanwhile.
std::vector<KernelCounter> dump_and_remember(NftNetlink& netlink, const CounterNameCache& cache,
                                             const std::string& table, bool reset) {
    const auto generation = ruleset_generation(netlink);
    const auto before = table_shape(netlink, table);
    auto counters = dump_counters(netlink, table, reset);
    if (before && ruleset_generation(netlink) == generation) {
        auto names = names_of(counters);
        const NamesVerified verified{generation, names_digest(names),
                                     current_netns_cookie().value_or(0)};
        cache.store(table, {*before, std::move(names), verified});
    } else {
        cache.forget(table);
    }
    return counters;
}

// Adds what a second reset read to the first one's values, name by name.
void add_values(std::vector<KernelCounter>& first, std::vector<KernelCounter> second) {
    std::map<std::string, std::size_t> position;
    for (std::size_t i = 0; i < first.size(); ++i) {
        position[first[i].name] = i;
    }
    for (auto& counter : second) {
        const auto known = position.find(counter.name);
        if (known == position.end()) {
            first.push_back(std::move(counter));
        } else {
            first[known->second].packets += counter.packets;
            first[known->second].bytes += counter.bytes;
        }
    }
}

} // namespace

std::vector<KernelCounter> read_table_counters(NftNetlink& netlink, const std::string& table,
                                               bool reset) {
    const CounterNameCache cache;
    auto remembered = cache.load(table);
    if (!remembered) {
        return dump_and_remember(netlink, cache, table, reset);
    }
    // The names are a claim to check, never to trust (the file may be damaged, or left by a
    // table of the same handle): the table must be the same one, hold exactly as many counters
    // as there are names, and have each of them; and no transaction may commit while this is
    // checked. Then the names are all of its counters, and no other can be missed.
    const auto generation = ruleset_generation(netlink);
    const auto shape = table_shape(netlink, table);
    if (!shape || *shape != remembered->shape) {
        return dump_and_remember(netlink, cache, table, reset);
    }
    // Counting the table's other members walks every object of the family once per object type
    // (an eighth of a read of 100,000 counters). It is skipped when these very names were checked
    // at this generation: no transaction has committed since, so nothing can have changed.
    const NamesVerified now{generation, names_digest(remembered->names),
                            current_netns_cookie().value_or(0)};
    const bool verified = remembered->verified == now;
    if (!verified && counter_count(netlink, table, *shape) != remembered->names.size()) {
        return dump_and_remember(netlink, cache, table, reset);
    }
    auto lookup = lookup_counters(netlink, table, remembered->names, reset);
    if (lookup.missing.empty() && ruleset_generation(netlink) == generation) {
        if (!verified) {
            cache.store(table, {*shape, std::move(remembered->names), now});
        }
        return std::move(lookup.found);
    }
    if (!reset) {
        return dump_and_remember(netlink, cache, table, false);
    }
    // Counters were zeroed already and must be reported; a counter we did not know of may
    // exist too, so a reset dump takes the rest (and what the known ones counted meanwhile).
    add_values(lookup.found, dump_and_remember(netlink, cache, table, true));
    return std::move(lookup.found);
}

void remember_counter_names(NftNetlink& netlink, const std::string& table,
                            const std::vector<std::string>& names) {
    const CounterNameCache cache;
    if (const auto shape = table_shape(netlink, table)) {
        cache.store(table, {*shape, names});
    } else {
        cache.forget(table);
    }
}

void forget_counter_names(const std::string& table) {
    CounterNameCache().forget(table);
}

} // namespace acctc::runtime
