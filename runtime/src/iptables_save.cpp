#include "iptables_save.hpp"

#include <algorithm>
#include <netdb.h>
#include <regex>
#include <sstream>

namespace acctc::runtime {
namespace {

bool builtin(const std::string& chain) {
    return chain == "INPUT" || chain == "OUTPUT" || chain == "FORWARD";
}

std::string target_of(const std::string& spec) {
    for (const char* flag : {" -j ", " -g "}) {
        const auto at = spec.rfind(flag);
        if (at != std::string::npos) {
            const auto begin = at + 4;
            return spec.substr(begin, spec.find(' ', begin) - begin);
        }
    }
    return {};
}

// "-p gre" and "-p 47" are the same rule; iptables-save names it from /etc/protocols.
std::string numeric_protocol(std::string line) {
    const auto p = line.find(" -p ");
    if (p == std::string::npos) {
        return line;
    }
    const auto begin = p + 4;
    const auto end = std::min(line.find(' ', begin), line.size());
    const std::string name = line.substr(begin, end - begin);
    if (const protoent* entry = getprotobyname(name.c_str())) {
        line.replace(begin, end - begin, std::to_string(entry->p_proto));
    }
    return line;
}

} // namespace

std::string comment_of(const std::string& spec) {
    const std::string key = "--comment \"";
    const auto at = spec.find(key);
    if (at == std::string::npos) {
        return {};
    }
    const auto begin = at + key.size();
    return spec.substr(begin, spec.find('"', begin) - begin);
}

SavedTable parse_save(const std::string& text) {
    SavedTable table;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) {
            continue;
        }
        if (line.front() == ':') {
            table.chains.push_back(line.substr(1, line.find(' ') - 1));
            continue;
        }
        SavedRule rule;
        if (line.front() == '[') {
            // "[packets:bytes] -A chain ..."
            const auto colon = line.find(':');
            const auto close = line.find(']');
            rule.packets = std::stoull(line.substr(1, colon - 1));
            rule.bytes = std::stoull(line.substr(colon + 1, close - colon - 1));
            line = line.substr(close + 2);
        }
        if (line.rfind("-A ", 0) != 0) {
            continue;
        }
        const auto space = line.find(' ', 3);
        rule.chain = line.substr(3, space - 3);
        rule.spec = space == std::string::npos ? std::string() : line.substr(space);
        table.rules.push_back(std::move(rule));
    }
    return table;
}

std::map<std::string, std::string> applied_policies(const SavedTable& table) {
    std::map<std::string, std::string> out;
    const std::string marker = "acctc:policy:";
    for (const auto& rule : table.rules) {
        const std::string comment = comment_of(rule.spec);
        const std::string target = target_of(rule.spec);
        if (!builtin(rule.chain) || comment.rfind(marker, 0) != 0 || target.rfind("acctc-", 0)) {
            continue;
        }
        // "acctc-<tag>-<role>": the tag holds no '-'.
        const auto end = target.find('-', 6);
        if (end != std::string::npos) {
            out[comment.substr(marker.size())] = target.substr(0, end + 1);
        }
    }
    return out;
}

std::vector<SavedRule> owned_jumps(const SavedTable& table, const std::string& prefix) {
    std::vector<SavedRule> out;
    for (const auto& rule : table.rules) {
        if (builtin(rule.chain) && target_of(rule.spec).rfind(prefix, 0) == 0) {
            out.push_back(rule);
        }
    }
    return out;
}

std::vector<std::string> owned_chains(const SavedTable& table, const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& chain : table.chains) {
        if (chain.rfind(prefix, 0) == 0) {
            out.push_back(chain);
        }
    }
    return out;
}

std::string counter_of(const SavedRule& rule) {
    return counter_named(comment_of(rule.spec), !target_of(rule.spec).empty());
}

std::string counter_named(const std::string& comment, bool has_target) {
    if (comment.rfind("acctc:", 0) != 0 || comment.rfind("acctc:policy:", 0) == 0 || has_target) {
        return {};
    }
    return comment.substr(6, comment.find(' ', 6) - 6); // npos - 6 still means "to the end"
}

std::string counter_metadata(const std::string& comment) {
    const auto space = comment.find(' ');
    return space == std::string::npos ? std::string() : comment.substr(space + 1);
}

std::vector<CountedRule> counted_rules(const std::vector<SavedRule>& rules) {
    std::vector<CountedRule> out;
    for (const auto& rule : rules) {
        out.push_back({rule.chain, counter_of(rule), counter_metadata(comment_of(rule.spec)),
                       rule.packets, rule.bytes});
    }
    return out;
}

std::optional<ChargeRule> charge_rule(const SavedRule& rule) {
    const std::string match = " -m nfacct --nfacct-name ";
    const auto at = rule.spec.find(match);
    if (at == std::string::npos) {
        return std::nullopt;
    }
    auto identity = decode_charge_comment(comment_of(rule.spec));
    if (!identity) {
        return std::nullopt;
    }
    // libxt_nfacct prints two spaces before the name.
    const auto begin = rule.spec.find_first_not_of(' ', at + match.size());
    if (begin == std::string::npos) {
        return std::nullopt;
    }
    return ChargeRule{rule.chain, rule.spec.substr(begin, rule.spec.find(' ', begin) - begin),
                      std::move(*identity)};
}

std::vector<SavedRule> parse_listing(const std::string& text) {
    // iptables prints the counters after the matches and before the target.
    static const std::regex rule("^-A ([^ ]+)(.*?) -c ([0-9]+) ([0-9]+)((?: -[jg] .*)?)$");
    std::vector<SavedRule> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_match(line, m, rule)) {
            out.push_back({std::stoull(m[3]), std::stoull(m[4]), m[1], m[2].str() + m[5].str()});
        }
    }
    return out;
}

std::string normalised_rules(const std::string& text, const std::string& prefix) {
    std::vector<std::string> chains;
    std::vector<std::pair<std::string, std::string>> rules; // chain, line
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.front() == '[') {
            line = line.substr(line.find(']') + 2);
        }
        if (!line.empty() && line.front() == ':' && line.rfind(":" + prefix, 0) == 0) {
            chains.push_back(line.substr(0, line.find(' ')));
            continue;
        }
        if (line.rfind("-I ", 0) == 0) {
            // "-I INPUT 1 ..." as it reads back: "-A INPUT ...".
            const auto chain_end = line.find(' ', 3);
            const auto number_end =
                chain_end == std::string::npos ? chain_end : line.find(' ', chain_end + 1);
            line = "-A " + line.substr(3, chain_end - 3) +
                   (number_end == std::string::npos ? std::string() : line.substr(number_end));
        }
        if (line.rfind("-A ", 0) != 0) {
            continue;
        }
        // "-A CHAIN" alone is a rule without matches or target (iptables -A CHAIN).
        const auto space = line.find(' ', 3);
        const std::string chain = line.substr(3, space - 3);
        const std::string spec = space == std::string::npos ? std::string() : line.substr(space);
        const bool mine = chain.rfind(prefix, 0) == 0 ||
                          (builtin(chain) && target_of(spec).rfind(prefix, 0) == 0);
        if (mine) {
            rules.emplace_back(chain, numeric_protocol(line));
        }
    }
    std::sort(chains.begin(), chains.end());
    std::stable_sort(rules.begin(), rules.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& chain : chains) {
        out += chain + "\n";
    }
    for (const auto& rule : rules) {
        out += rule.second + "\n";
    }
    return out;
}

} // namespace acctc::runtime
