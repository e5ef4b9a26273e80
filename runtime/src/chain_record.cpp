#include "chain_record.hpp"

#include "acctc/runtime/unified_diff.hpp"
#include "nft_inventory.hpp"
#include "reload_plan.hpp"
#include "run_files.hpp"
#include "text_lines.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <sstream>
#include <vector>

namespace acctc::runtime {
namespace {

constexpr std::string_view format_line = "acctc chains 1";
constexpr std::size_t max_file_bytes = 64U << 20;
// Chains of more lines are not recorded, so a reload replaces them as a whole. Leaving a chain
// alone matters for the few rules holding a classify map; reading back a chain of 100,000 plain
// counting rules would cost more than replacing it, and their re-added rules lose nothing.
constexpr std::size_t max_recorded_lines = 1000;

bool recorded_at_all(const std::string& block) {
    return static_cast<std::size_t>(std::count(block.begin(), block.end(), '\n')) <=
           max_recorded_lines;
}

struct Record {
    std::uint64_t table_handle = 0;
    struct Chain {
        std::string digest;
        std::vector<std::uint64_t> rules;
    };
    std::map<std::string, Chain> chains;
};

std::string file_of(const std::string& table) {
    return table + ".chains";
}

// FNV-1a, 64 bits, of the chain's lines without their origins: tells the rules of a chain
// from other rules. Origins alone do not make a chain changed: they move with every line added
// above, and replacing the rules for them would reopen the kernel's moment for nothing (the
// rules keep the comments they were added with; ORIGIN and `acctc diff` show the current ones).
std::string digest(const std::string& block) {
    std::string text;
    for (const auto& line : split_lines(block)) {
        text += without_origin(line) + "\n";
    }
    std::uint64_t hash = 14695981039346656037ULL;
    for (const unsigned char c : text) {
        hash = (hash ^ c) * 1099511628211ULL;
    }
    std::ostringstream out;
    out << std::hex << hash << "-" << std::dec << text.size();
    return out.str();
}

std::string render(const Record& record) {
    std::ostringstream out;
    out << format_line << "\n"
        << "table " << record.table_handle << "\n";
    for (const auto& [name, chain] : record.chains) {
        out << name << " " << chain.digest << " ";
        if (chain.rules.empty()) {
            out << "-";
        }
        for (std::size_t i = 0; i < chain.rules.size(); ++i) {
            out << (i == 0 ? "" : ",") << chain.rules[i];
        }
        out << "\n";
    }
    return out.str();
}

std::optional<Record> parse(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    Record record;
    std::string word;
    if (!std::getline(in, line) || line != format_line || !std::getline(in, line)) {
        return std::nullopt;
    }
    std::istringstream head(line);
    if (!(head >> word >> record.table_handle) || word != "table" || !(head >> std::ws).eof()) {
        return std::nullopt;
    }
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string name;
        Record::Chain chain;
        std::string rules;
        if (!(fields >> name >> chain.digest >> rules) || !(fields >> std::ws).eof()) {
            return std::nullopt;
        }
        if (rules != "-") {
            std::istringstream list(rules);
            std::string handle;
            while (std::getline(list, handle, ',')) {
                if (handle.empty() || handle.find_first_not_of("0123456789") != std::string::npos) {
                    return std::nullopt;
                }
                chain.rules.push_back(std::stoull(handle));
            }
        }
        if (!record.chains.emplace(name, std::move(chain)).second) {
            return std::nullopt;
        }
    }
    return record;
}

} // namespace

LiveChains recorded_unchanged_chains(NftNetlink& netlink, const std::string& table,
                                     const std::string& definition) {
    return recorded_unchanged_blocks(netlink, table, chain_blocks(definition));
}

LiveChains recorded_unchanged_blocks(NftNetlink& netlink, const std::string& table,
                                     const std::map<std::string, std::string>& blocks) {
    const auto text = read_run_file(run_directory(), file_of(table), max_file_bytes);
    const auto record = text ? parse(*text) : std::nullopt;
    const auto shape = table_shape(netlink, table);
    LiveChains chains;
    if (!record || !shape || shape->handle != record->table_handle) {
        return chains;
    }
    for (const auto& [name, block] : blocks) {
        const auto recorded = record->chains.find(name);
        if (recorded == record->chains.end() || recorded->second.digest != digest(block)) {
            continue;
        }
        auto rules = rule_handles(netlink, table, name);
        if (recorded->second.rules == rules) {
            chains.unchanged.insert(name);
            chains.rules[name] = std::move(rules);
        }
    }
    return chains;
}

void record_chains(NftNetlink& netlink, const std::string& table, const std::string& definition) {
    const auto shape = table_shape(netlink, table);
    if (!shape) {
        forget_chains(table);
        return;
    }
    Record record;
    record.table_handle = shape->handle;
    for (const auto& [name, block] : chain_blocks(definition)) {
        if (recorded_at_all(block)) {
            record.chains[name] = {digest(block), rule_handles(netlink, table, name)};
        }
    }
    const std::string text = render(record);
    if (text.size() > max_file_bytes) {
        forget_chains(table);
        return;
    }
    write_run_file(run_directory(), file_of(table), text);
}

void forget_chains(const std::string& table) {
    remove_run_file(run_directory(), file_of(table));
}

} // namespace acctc::runtime
