#include "ruleset_normalise.hpp"

#include "acctc/runtime/unified_diff.hpp"
#include "text_lines.hpp"

#include <algorithm>
#include <regex>
#include <vector>

namespace acctc::runtime {

std::string normalise_ruleset(const std::string& listing,
                              const std::set<std::string>& dynamic_sets) {
    static const std::regex counter_open(R"(^\s*counter (\S+) \{$)");
    static const std::regex set_open(R"(^\s*(set|map) (\S+) \{$)");
    static const std::regex counter_detail(R"(^\s*(comment "[^"]*"|packets \d+ bytes \d+)$)");
    static const std::regex elements_open(R"(^\s*elements = \{.*$)");
    static const std::regex comment_line(R"(^\s*comment "[^"]*"$)");
    // nft 1.0.6's JSON leaves the dynamic flag out (a host set listed as having no flags), so
    // the listing's own flags and timeout lines, which come before the elements, say it too.
    static const std::regex packet_state(R"(^\s*(flags .*\b(dynamic|timeout)\b.*|timeout .*)$)");
    // A set kept by a reload keeps the comment it was created with, like a counter.
    enum class Block { other, counter, set, dynamic_set } block = Block::other;
    int element_depth = 0; // > 0 while skipping a dynamic set's element list
    std::string out;
    for (std::string line : split_lines(listing)) {
        line.erase(line.find_last_not_of(" \t") + 1);
        std::smatch match;
        if (element_depth > 0) {
            element_depth += brace_balance(line);
            continue;
        }
        if (std::regex_match(line, counter_open)) {
            block = Block::counter;
        } else if (std::regex_match(line, match, set_open)) {
            block = dynamic_sets.count(match[2].str()) != 0 ? Block::dynamic_set : Block::set;
        } else if (line.find_first_not_of("\t ") != std::string::npos &&
                   line[line.find_first_not_of("\t ")] == '}') {
            block = Block::other;
        } else if (block == Block::counter && std::regex_match(line, counter_detail)) {
            continue;
        } else if (block == Block::set && std::regex_match(line, packet_state)) {
            block = Block::dynamic_set;
        } else if ((block == Block::set || block == Block::dynamic_set) &&
                   std::regex_match(line, comment_line)) {
            continue;
        } else if (block == Block::dynamic_set && std::regex_match(line, elements_open)) {
            element_depth += brace_balance(line);
            continue;
        }
        out += line + "\n";
    }
    return in_canonical_order(out);
}

std::string in_canonical_order(const std::string& listing) {
    // Blocks at table level: each runs from a line at depth 1 until depth 1 is reached again.
    std::string head;
    std::string tail;
    std::vector<std::string> blocks;
    int depth = 0;
    for (const auto& line : split_lines(listing)) {
        const int before = depth;
        depth += brace_balance(line);
        if (before == 0) {
            (blocks.empty() ? head : tail) += line + "\n";
        } else if (before == 1 && depth == 0) {
            tail += line + "\n";
        } else if (before == 1 && line.find_first_not_of(" \t") == std::string::npos) {
            continue; // the blank lines between blocks: one goes between each two again
        } else if (before == 1) {
            blocks.push_back(line + "\n");
        } else {
            blocks.back() += line + "\n";
        }
    }
    std::stable_sort(blocks.begin(), blocks.end());
    std::string out = head;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        out += (i == 0 ? "" : "\n") + blocks[i];
    }
    return out + tail;
}

std::string without_origin(const std::string& line) {
    static const std::regex origin(R"( comment "([^"\\]|\\.)*"$)");
    static const std::regex iptables_origin(R"( -m comment --comment ("([^"\\]|\\.)*"|\S+))");
    // The expressions run only on the part that can match: a classify map's line is megabytes.
    std::string out = line.find("-m comment") == std::string::npos
                          ? line
                          : std::regex_replace(line, iptables_origin, "");
    const std::size_t last = out.rfind(" comment \"");
    if (last == std::string::npos) {
        return out;
    }
    // A quoted comment holds no unescaped quote, so the one at the end starts at the last
    // ` comment "` unless an escaped quote inside it is followed by that text: then look at
    // the whole line.
    const std::string tail = out.substr(last);
    const std::string stripped = std::regex_replace(tail, origin, "");
    if (stripped.empty()) {
        return out.substr(0, last);
    }
    return std::regex_replace(out, origin, "");
}

} // namespace acctc::runtime
