#include "acctc/bench/breakdown.hpp"

#include <vector>

namespace acctc::bench {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        lines.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
        at = end == std::string::npos ? text.size() : end + 1;
    }
    return lines;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) {
        text += line + "\n";
    }
    return text;
}

// `counter name KEY map { K1 : "c1", K2 : "c2" } REST` -> `KEY { K1, K2 } REST`, in one pass
// (a map of 100,000 elements is one line of megabytes).
std::optional<std::string> as_set_lookup(const std::string& rule) {
    const std::string head = "counter name ";
    const std::string open = " map { ";
    const std::size_t start = rule.find(head);
    const std::size_t map = rule.find(open, start == std::string::npos ? 0 : start);
    const std::size_t close = rule.find(" }", map == std::string::npos ? 0 : map);
    if (start == std::string::npos || map == std::string::npos || close == std::string::npos) {
        return std::nullopt;
    }
    std::string out =
        rule.substr(0, start) + rule.substr(start + head.size(), map - start - head.size()) + " { ";
    const std::size_t first = map + open.size();
    bool in_value = false;
    for (std::size_t i = first; i < close; ++i) {
        if (!in_value && rule.compare(i, 4, " : \"") == 0) {
            in_value = true;
            i += 3; // at the opening quote
            continue;
        }
        if (in_value) {
            in_value = rule[i] != '"';
            continue;
        }
        out += rule[i];
    }
    return out + rule.substr(close);
}

// The lines with the rules of the chain whose first rule is at `first` removed.
std::vector<std::string> emptied(std::vector<std::string> lines, std::size_t first) {
    std::size_t end = first;
    while (end < lines.size() && lines[end] != "\t}") {
        ++end;
    }
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(first),
                lines.begin() + static_cast<std::ptrdiff_t>(end));
    return lines;
}

// A rule of sets: the hash that picks a part (`split host`, element counters), the update of a
// host set, or the lookup in one counting set.
bool is_set_rule(const std::string& rule) {
    // Element counters' dispatch is the rule's first word (`\t\tjhash ...`).
    return rule.find("jhash ") != std::string::npos || rule.find("update @") != std::string::npos ||
           rule.find(" @") != std::string::npos;
}

// The steps of a ruleset of sets (`split host`, element counters) after the jump: the parts'
// chains emptied (the hash and the verdict map only) when the sets are parts, and the sets
// without their `counter`.
void set_steps(const std::vector<std::string>& lines, const std::string& target,
               BreakdownRulesets& out) {
    auto dispatch = lines;
    bool parts = false;
    const std::string part_chain = "\tchain " + target + "_";
    for (std::size_t i = dispatch.size(); i-- > 0;) {
        if (dispatch[i].rfind(part_chain, 0) == 0) {
            dispatch = emptied(std::move(dispatch), i + 1);
            parts = true;
        }
    }
    if (parts) {
        out.dispatch = joined(dispatch);
    }
    auto uncounted = lines;
    // A set's `counter` line (named counters are `\tcounter NAME {`, one tab).
    std::erase(uncounted, std::string("\t\tcounter"));
    out.lookup = joined(uncounted);
}

} // namespace

std::optional<BreakdownRulesets> breakdown_rulesets(const std::string& compiled) {
    const auto lines = lines_of(compiled);
    std::string target;
    std::size_t jump_line = 0;
    std::size_t map_line = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::size_t jump = lines[i].find(" jump ");
        if (jump != std::string::npos && target.empty()) {
            const std::size_t name = jump + 6;
            target = lines[i].substr(name, lines[i].find(' ', name) - name);
            jump_line = i;
        }
        if (!target.empty() && lines[i] == "\tchain " + target + " {" && i + 1 < lines.size()) {
            map_line = i + 1;
        }
    }
    if (target.empty() || map_line == 0) {
        return std::nullopt;
    }
    const bool sets = is_set_rule(lines[map_line]);
    const auto lookup_rule = as_set_lookup(lines[map_line]);
    if (!lookup_rule && !sets) {
        return std::nullopt;
    }
    BreakdownRulesets out;
    auto compare = lines;
    const std::size_t jump = compare[jump_line].find(" jump ");
    const std::size_t after = compare[jump_line].find(' ', jump + 6);
    compare[jump_line].erase(jump, after == std::string::npos ? std::string::npos : after - jump);
    // The classification chain, no longer jumped to, is left as it is.
    out.compare = joined(compare);
    out.jump = joined(emptied(lines, map_line));
    if (sets) {
        set_steps(lines, target, out);
        return out;
    }
    auto lookup = lines;
    lookup[map_line] = *lookup_rule;
    out.lookup = joined(lookup);
    return out;
}

} // namespace acctc::bench
