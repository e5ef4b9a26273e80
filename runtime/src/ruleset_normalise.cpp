#include "ruleset_normalise.hpp"

#include "text_lines.hpp"

#include <regex>

namespace acctc::runtime {

std::string normalise_ruleset(const std::string& listing,
                              const std::set<std::string>& dynamic_sets) {
    static const std::regex counter_open(R"(^\s*counter (\S+) \{$)");
    static const std::regex set_open(R"(^\s*(set|map) (\S+) \{$)");
    static const std::regex counter_detail(R"(^\s*(comment "[^"]*"|packets \d+ bytes \d+)$)");
    static const std::regex elements_open(R"(^\s*elements = \{.*$)");
    static const std::regex comment_line(R"(^\s*comment "[^"]*"$)");
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
        } else if ((block == Block::set || block == Block::dynamic_set) &&
                   std::regex_match(line, comment_line)) {
            continue;
        } else if (block == Block::dynamic_set && std::regex_match(line, elements_open)) {
            element_depth += brace_balance(line);
            continue;
        }
        out += line + "\n";
    }
    return out;
}

} // namespace acctc::runtime
