#include "iptables_nft_tables.hpp"

#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/nft_context.hpp"
#include "run_files.hpp"

#include <algorithm>
#include <array>

namespace acctc::runtime {
namespace {

std::string marker_of(const std::string& family) {
    return "iptables-nft-created-" + family + "-filter";
}

constexpr std::array<std::string_view, 3> builtin{"INPUT", "FORWARD", "OUTPUT"};

bool is_builtin(const std::string& chain) {
    return std::find(builtin.begin(), builtin.end(), chain) != builtin.end();
}

// Only iptables' built-in chains of the filter table, empty and accepting: what the table held
// before acctc's jumps went in.
bool holds_nothing_else(const nlohmann::json& listing) {
    for (const auto& entry : listing.value("nftables", nlohmann::json::array())) {
        if (entry.contains("metainfo") || entry.contains("table")) {
            continue;
        }
        if (!entry.contains("chain")) {
            return false; // a rule, set, map, object or flowtable
        }
        const auto& chain = entry["chain"];
        if (!is_builtin(chain.value("name", "")) || chain.value("policy", "accept") != "accept") {
            return false;
        }
    }
    return true;
}

} // namespace

bool nft_filter_table_exists(const std::string& family) {
    return NftContext().run("list table " + family + " filter").ok;
}

void remember_created_filter_table(const std::string& family) {
    write_run_file(run_directory(), marker_of(family), "created by acctc apply\n");
}

void delete_created_filter_table(const std::string& family, const SavedTable& after) {
    const std::string directory = run_directory();
    if (!read_run_file(directory, marker_of(family), 64)) {
        return;
    }
    bool empty = true;
    for (const auto& chain : after.chains) {
        if (!is_builtin(chain)) {
            empty = false;
            if (!chain.starts_with("acctc-")) {
                remove_run_file(directory, marker_of(family)); // someone else's chain
                return;
            }
        }
    }
    for (const auto& rule : after.rules) {
        empty = false;
        if (is_builtin(rule.chain) && !comment_of(rule.spec).starts_with("acctc:policy:")) {
            remove_run_file(directory, marker_of(family)); // someone else's rule
            return;
        }
    }
    if (!empty) {
        return; // another acctc policy is still applied: the last remove deletes the table
    }
    remove_run_file(directory, marker_of(family));
    NftContext nft;
    nlohmann::json listing;
    try {
        listing = nft.run_json("list table " + family + " filter");
    } catch (const RuntimeError&) {
        return; // gone already
    }
    if (!holds_nothing_else(listing)) {
        return;
    }
    // A rule added to a built-in chain meanwhile makes its deletion fail, and the batch with it.
    std::string batch;
    for (const char* chain : {"INPUT", "FORWARD", "OUTPUT"}) {
        for (const auto& entry : listing["nftables"]) {
            if (entry.contains("chain") && entry["chain"].value("name", "") == chain) {
                batch += "delete chain " + family + " filter " + chain + "\n";
            }
        }
    }
    NftContext().run(batch + "delete table " + family + " filter\n");
}

} // namespace acctc::runtime
