#include "nft_listing.hpp"

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/nft_context.hpp"
#include "nft_element_carry.hpp"
#include "ruleset_normalise.hpp"

#include <algorithm>
#include <nftables/libnftables.h>

namespace acctc::runtime {
namespace {

bool has_flag(const nlohmann::json& flags, const std::string& flag) {
    if (flags.is_string()) {
        return flags.get<std::string>() == flag;
    }
    return flags.is_array() && std::find(flags.begin(), flags.end(), flag) != flags.end();
}

// Sets whose elements the packet path adds (dynamic, or expiring): their contents are state.
std::set<std::string> dynamic_sets(const nlohmann::json& listing) {
    std::set<std::string> names;
    for (const auto& entry : listing.value("nftables", nlohmann::json::array())) {
        for (const char* kind : {"set", "map"}) {
            if (!entry.contains(kind)) {
                continue;
            }
            const auto& set = entry[kind];
            const auto flags = set.value("flags", nlohmann::json::array());
            if (has_flag(flags, "dynamic") || has_flag(flags, "timeout") ||
                set.contains("timeout")) {
                names.insert(set.value("name", ""));
            }
        }
    }
    return names;
}

// Large classifications' counting sets (their comment says so).
std::set<std::string> counting_sets(const nlohmann::json& listing) {
    std::set<std::string> names;
    for (const auto& entry : listing.value("nftables", nlohmann::json::array())) {
        if (entry.contains("set") &&
            entry["set"].value("comment", "").starts_with(element_set_comment)) {
            names.insert(entry["set"].value("name", ""));
        }
    }
    return names;
}

// One table ("inet NAME" or "netdev NAME"), normalised.
std::string normalised_table(const std::string& family_table) {
    const std::string command = "list table " + family_table;
    NftContext json_context;
    const auto json = json_context.run_json(command);
    const auto dynamic = dynamic_sets(json);
    NftContext text_context(NFT_CTX_OUTPUT_STATELESS);
    const NftResult listing = text_context.run(command);
    if (!listing.ok) {
        throw_nft_failure("cannot list table " + family_table, listing.errors);
    }
    const auto counting = counting_sets(json);
    return normalise_ruleset(
        counting.empty() ? listing.output : listed_as_compiled(listing.output, counting), dynamic);
}

} // namespace

std::string normalised_listing(const std::string& table,
                               const std::vector<std::string>& egress_tables) {
    std::string text = normalised_table("inet " + table);
    for (const auto& egress : egress_tables) {
        text += normalised_table("netdev " + egress);
    }
    return text;
}

} // namespace acctc::runtime
