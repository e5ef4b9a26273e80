#include "reload_plan.hpp"

#include "acctc/runtime/errors.hpp"

#include <algorithm>
#include <linux/netfilter/nf_tables.h>
#include <set>

namespace acctc::runtime {
namespace {

// nft's keyword for deleting each kind of stateful object a compiled policy may hold.
std::string object_keyword(const TableInventory::Object& object, const std::string& table) {
    switch (object.type) {
    case NFT_OBJECT_QUOTA:
        return "quota";
    case NFT_OBJECT_LIMIT:
        return "limit";
    case NFT_OBJECT_CT_HELPER:
        return "ct helper";
    case NFT_OBJECT_CT_TIMEOUT:
        return "ct timeout";
    case NFT_OBJECT_CT_EXPECT:
        return "ct expectation";
    case NFT_OBJECT_SECMARK:
        return "secmark";
    case NFT_OBJECT_SYNPROXY:
        return "synproxy";
    default:
        throw RuntimeError(ErrorKind::unsupported,
                           "table inet " + table + " holds object '" + object.name + "' of type " +
                               std::to_string(object.type) + ", which acctc cannot replace");
    }
}

} // namespace

std::string quoted(const std::string& name) {
    return "\"" + name + "\"";
}

CounterPlan plan_counters(const std::vector<std::string>& existing,
                          const std::vector<std::string>& wanted) {
    const std::set<std::string> before(existing.begin(), existing.end());
    const std::set<std::string> after(wanted.begin(), wanted.end());
    CounterPlan plan;
    std::set_intersection(after.begin(), after.end(), before.begin(), before.end(),
                          std::back_inserter(plan.kept));
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(plan.added));
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(plan.removed));
    return plan;
}

std::string reload_transaction(const std::string& table, const TableInventory* existing,
                               const std::string& definition) {
    const std::string prefix = " inet " + table + " ";
    std::string text = "table inet " + table + "\n";
    if (existing != nullptr) {
        // Order matters: rules hold sets, chains and objects; verdict maps hold chains.
        text += "flush table inet " + table + "\n";
        for (const auto& set : existing->sets) {
            text += (set.map ? "delete map" : "delete set") + prefix + quoted(set.name) + "\n";
        }
        for (const auto& flowtable : existing->flowtables) {
            text += "delete flowtable" + prefix + quoted(flowtable) + "\n";
        }
        for (const auto& chain : existing->chains) {
            text += "delete chain" + prefix + quoted(chain) + "\n";
        }
        for (const auto& object : existing->objects) {
            text += "delete " + object_keyword(object, table) + prefix + quoted(object.name) + "\n";
        }
    }
    text += definition;
    if (!definition.empty() && definition.back() != '\n') {
        text += "\n";
    }
    return text;
}

std::string delete_counters_transaction(const std::string& table,
                                        const std::vector<std::string>& counters) {
    std::string text;
    for (const auto& counter : counters) {
        text += "delete counter inet " + table + " " + quoted(counter) + "\n";
    }
    return text;
}

} // namespace acctc::runtime
