#include "reload_plan.hpp"

#include "acctc/runtime/errors.hpp"
#include "text_lines.hpp"

#include <algorithm>
#include <cctype>
#include <linux/netfilter/nf_tables.h>
#include <regex>
#include <set>

namespace acctc::runtime {
namespace {

// nft's keyword for deleting each kind of stateful object a compiled policy may hold.
std::string object_keyword(std::uint32_t type, const std::string& name, const std::string& table) {
    switch (type) {
    case NFT_OBJECT_COUNTER:
        return "counter";
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
        throw RuntimeError(ErrorKind::unsupported, "table inet " + table + " holds object '" +
                                                       name + "' of type " + std::to_string(type) +
                                                       ", which acctc cannot replace");
    }
}

} // namespace

std::string cleanup_text(const std::string& table, const std::vector<CleanupStep>& steps) {
    const std::string prefix = " inet " + table + " ";
    std::string text;
    for (const auto& step : steps) {
        switch (step.kind) {
        case CleanupStep::Kind::flush_chain:
            text += "flush chain" + prefix + step.name + "\n";
            break;
        case CleanupStep::Kind::delete_set:
            text += "delete set" + prefix + step.name + "\n";
            break;
        case CleanupStep::Kind::delete_map:
            text += "delete map" + prefix + step.name + "\n";
            break;
        case CleanupStep::Kind::delete_chain:
            text += "delete chain" + prefix + step.name + "\n";
            break;
        case CleanupStep::Kind::rename_chain:
            text += "rename chain" + prefix + step.name + " " + step.new_name + "\n";
            break;
        case CleanupStep::Kind::delete_object:
            text += "delete " + object_keyword(step.object_type, step.name, table) + prefix +
                    step.name + "\n";
            break;
        }
    }
    return text;
}

std::string identifier(const std::string& name) {
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
               c == '/';
    });
    if (!plain || std::isdigit(static_cast<unsigned char>(name[0]))) {
        throw RuntimeError(ErrorKind::unsupported,
                           "cannot name '" + name + "' in an nft command (not an identifier)");
    }
    return name;
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

SetPlan plan_sets(const std::vector<TableInventory::Set>& existing,
                  const std::map<std::string, SetShape>& live,
                  const std::map<std::string, SetShape>& wanted) {
    SetPlan plan;
    for (const auto& set : existing) {
        const auto again = wanted.find(set.name);
        if (again == wanted.end()) {
            plan.removed.push_back(set.name);
            continue;
        }
        const auto now = live.find(set.name);
        const std::string change = now == live.end() ? "not listed by nft"
                                   : now->second.map != set.map
                                       ? (set.map ? "map -> set" : "set -> map")
                                       : shape_change(now->second, again->second);
        if (change.empty()) {
            plan.kept.push_back(set.name);
            plan.keep[set.name] = again->second.dynamic() || again->second.counts_elements();
        } else {
            plan.replaced.emplace_back(set.name, change);
        }
    }
    std::sort(plan.kept.begin(), plan.kept.end());
    std::sort(plan.replaced.begin(), plan.replaced.end());
    std::sort(plan.removed.begin(), plan.removed.end());
    return plan;
}

namespace {

const std::regex& chain_open() {
    static const std::regex pattern(R"(^\s*chain (\S+) \{\s*$)");
    return pattern;
}

bool is_hook_line(const std::string& line) {
    static const std::regex pattern(R"(^\s*type \S+ hook )");
    return opens_with(line, "type ") && std::regex_search(line, pattern);
}

// Calls on_line(line, chain) for every line of nft text; chain is the name of the table-level
// chain block the line is inside of (its opening and closing lines too), or empty.
template <typename OnLine>
void walk_chains(const std::string& text, OnLine on_line) {
    std::string chain;
    int depth = 0;
    for_each_line(text, [&](const std::string& line) {
        std::smatch match;
        if (depth == 1 && opens_with(line, "chain ") &&
            std::regex_match(line, match, chain_open())) {
            chain = match[1].str();
        }
        on_line(line, chain, depth);
        depth += brace_balance(line);
        if (depth <= 1) {
            chain.clear();
        }
    });
}

} // namespace

DeclaredNames declared_names(const std::string& definition) {
    static const std::regex set_open(R"(^\s*(set|map) (\S+) \{)");
    static const std::regex object_open(
        R"(^\s*(quota|limit|ct helper|ct timeout|ct expectation|secmark|synproxy) (\S+) \{)");
    DeclaredNames names;
    walk_chains(definition, [&](const std::string& line, const std::string& chain, int depth) {
        std::smatch match;
        if (depth == 1 && !chain.empty()) {
            names.chains.emplace(chain, false);
        } else if (depth == 1 && (opens_with(line, "set ") || opens_with(line, "map ")) &&
                   std::regex_search(line, match, set_open)) {
            names.sets.insert(match[2].str());
        } else if (depth == 1 && !opens_with(line, "counter ") && !opens_with(line, "}") &&
                   std::regex_search(line, match, object_open)) {
            names.objects.insert(match[2].str());
        } else if (depth == 2 && !chain.empty() && is_hook_line(line)) {
            names.chains[chain] = true;
        }
    });
    return names;
}

std::map<std::string, std::string> chain_blocks(const std::string& text) {
    std::map<std::string, std::string> blocks;
    walk_chains(text, [&](const std::string& line, const std::string& chain, int) {
        if (!chain.empty()) {
            blocks[chain] += line + "\n";
        }
    });
    return blocks;
}

std::string without_rules_of(const std::string& definition, const std::set<std::string>& chains) {
    std::string out;
    walk_chains(definition, [&](const std::string& line, const std::string& chain, int depth) {
        const bool closing = depth + brace_balance(line) <= 1;
        const bool rule = depth >= 2 && !closing && chains.count(chain) != 0 &&
                          !(depth == 2 && is_hook_line(line));
        if (!rule) {
            out += line + "\n";
        }
    });
    return out;
}

bool only_counters_change(const TableInventory& existing, const std::string& definition,
                          const SetPlan& sets, const LiveChains& live) {
    if (!existing.objects.empty() || !existing.flowtables.empty() || !sets.replaced.empty() ||
        !sets.removed.empty()) {
        return false;
    }
    const DeclaredNames declared = declared_names(definition);
    if (!declared.objects.empty() || declared.chains.size() != existing.chains.size() ||
        declared.sets.size() != existing.sets.size() || sets.keep.size() != existing.sets.size()) {
        return false;
    }
    for (const auto& chain : existing.chains) {
        const auto again = declared.chains.find(chain.name);
        if (again == declared.chains.end() || again->second != chain.base ||
            live.unchanged.count(chain.name) == 0) {
            return false;
        }
    }
    for (const auto& set : existing.sets) {
        const auto kept = sets.keep.find(set.name);
        if (declared.sets.count(set.name) == 0 || kept == sets.keep.end() || !kept->second) {
            return false;
        }
    }
    return true;
}

namespace {

// The rule lines of a chain block (one rule a line, as acctc writes them): not the header, the
// hook line or the closing brace.
std::vector<std::string> rule_lines(const std::string& block) {
    auto lines = split_lines(block);
    std::vector<std::string> rules;
    for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
        if (!is_hook_line(lines[i]) && lines[i].find_first_not_of(" \t") != std::string::npos) {
            rules.push_back(lines[i]);
        }
    }
    return rules;
}

// Chain name -> the name it is filled under before the commit.
using StagedNames = std::map<std::string, std::string>;

// A rule's jumps and gotos to the chains in `targets` turned to their staged names.
std::string retargeted(const std::string& rule, const StagedNames& targets) {
    // A vmap lists its targets `0 : goto a, 1 : goto b }`: the comma and brace end a name.
    static const std::regex jump(R"(\b(jump|goto) ([^\s,}]+))");
    if (rule.find("jump ") == std::string::npos && rule.find("goto ") == std::string::npos) {
        return rule;
    }
    std::string out;
    auto from = rule.cbegin();
    for (auto it = std::sregex_iterator(rule.begin(), rule.end(), jump);
         it != std::sregex_iterator(); ++it) {
        const auto& match = *it;
        out.append(from, match[0].first);
        const std::string target = match[2].str();
        const auto staged = targets.find(target);
        out += match[1].str() + " " + (staged != targets.end() ? staged->second : target);
        from = match[0].second;
    }
    out.append(from, rule.cend());
    return out;
}

bool jumps_to(const std::string& rule, const StagedNames& targets) {
    return retargeted(rule, targets) != rule;
}

std::string trimmed(const std::string& line) {
    const std::size_t first = line.find_first_not_of(" \t");
    return first == std::string::npos ? std::string() : line.substr(first);
}

// The text without the declarations of `counters` (each block whole).
std::string without_counters(const std::string& text, const std::set<std::string>& counters) {
    std::string out;
    out.reserve(text.size());
    int skipping_until = -1; // depth at which a skipped block ends
    walk_chains(text, [&](const std::string& line, const std::string& chain, int depth) {
        if (skipping_until >= 0) {
            if (depth + brace_balance(line) <= skipping_until) {
                skipping_until = -1;
            }
            return;
        }
        if (chain.empty() && depth == 1 && opens_with(line, "counter ")) {
            const std::size_t begin = line.find("counter ") + 8;
            const std::string name = line.substr(begin, line.find_first_of(" {", begin) - begin);
            if (counters.count(name) != 0) {
                if (depth + brace_balance(line) > 1) {
                    skipping_until = 1;
                }
                return;
            }
        }
        out += line;
        out += '\n';
    });
    return out;
}

} // namespace

ReloadTransactions reload_transactions(const std::string& table, const TableInventory* existing,
                                       const std::string& definition,
                                       const std::vector<std::string>& removed_counters,
                                       bool keep_chains,
                                       const std::map<std::string, bool>& kept_sets,
                                       const LiveChains& live, bool stage,
                                       const std::set<std::string>& kept_counters) {
    const std::string prefix = " inet " + table + " ";
    ReloadTransactions out;
    out.commit = "table inet " + table + "\n";
    if (existing == nullptr) {
        out.commit += definition + (definition.empty() || definition.back() == '\n' ? "" : "\n");
        return out;
    }
    // What the stage and the commit declare: kept counters need not be re-added in place
    // (that changes nothing), and libnftables' parse and the kernel's lookup of 100,000 of
    // them cost about half a second per transaction.
    const std::string text =
        kept_counters.empty() ? definition : without_counters(definition, kept_counters);
    std::string body = text;
    const DeclaredNames declared = declared_names(definition);
    // Rules hold sets, chains and objects, and verdict maps hold chains: flush first, then
    // sets, then chains, then objects.
    std::string sets;
    bool sets_recreated = false;
    for (const auto& set : existing->sets) {
        const std::string kind = set.map ? "map" : "set";
        const auto kept = kept_sets.find(set.name);
        if (kept != kept_sets.end() && declared.sets.count(set.name) != 0) {
            // Re-added in place by the definition, which nft treats as "already exists".
            // Elements the packet path put there stay, with their timeouts; a set whose
            // elements come from the definition is emptied and refilled in the same
            // transaction, so a lookup sees the old elements or the new, never none.
            if (!kept->second) {
                sets += "flush " + kind + prefix + identifier(set.name) + "\n";
            }
            continue;
        }
        const std::string command = "delete " + kind + prefix + identifier(set.name) + "\n";
        if (declared.sets.count(set.name) != 0) {
            sets += command;
            sets_recreated = true;
        } else {
            out.cleanup.push_back(
                {set.map ? CleanupStep::Kind::delete_map : CleanupStep::Kind::delete_set,
                 identifier(set.name),
                 {},
                 0});
        }
    }

    std::set<std::string> existing_names;
    for (const auto& chain : existing->chains) {
        existing_names.insert(chain.name);
    }
    // Regular chains to fill before the commit jumps to them: new ones under their own name,
    // changed ones under their staged name (renamed back in the cleanup).
    std::set<std::string> staged_new;
    StagedNames staged_changed; // filled as NAME.next (or .next1, ... when that name is taken)
    const bool staging = stage && !sets_recreated;
    std::set<std::string> untouched; // chains whose rules stay as they are
    std::string chains;
    std::vector<TableInventory::Chain> undeclared;
    for (const auto& chain : existing->chains) {
        const std::string command = "delete chain" + prefix + identifier(chain.name) + "\n";
        const auto again = declared.chains.find(chain.name);
        if (again == declared.chains.end()) {
            undeclared.push_back(chain);
        } else if (again->second != chain.base || (chain.base && !keep_chains)) {
            chains += command;
        } else if (!sets_recreated && live.unchanged.count(chain.name) != 0) {
            untouched.insert(chain.name);
        } else if (staging && !chain.base) {
            // A name no chain has: one left by a reload that was killed may still be in use.
            std::string staged = chain.name + ".next";
            for (int n = 1; existing_names.count(staged) != 0; ++n) {
                staged = chain.name + ".next" + std::to_string(n);
            }
            staged_changed[chain.name] = staged;
        }
    }
    for (const auto& chain : undeclared) {
        // A base chain left behind would keep filtering with its old policy.
        if (chain.base) {
            chains += "delete chain" + prefix + identifier(chain.name) + "\n";
        } else {
            out.cleanup.push_back({CleanupStep::Kind::delete_chain, identifier(chain.name), {}, 0});
        }
    }
    if (staging) {
        for (const auto& [name, base] : declared.chains) {
            if (!base && existing_names.count(name) == 0) {
                staged_new.insert(name);
            }
        }
    }

    // Chains left alone that jump to a changed chain: those rules are replaced one by one (the
    // others, and their sets, stay); when the record does not say which rule is which, the
    // chain's rules are all replaced.
    std::string replaced;
    const auto blocks = chain_blocks(definition);
    if (!staged_changed.empty()) {
        for (auto it = untouched.begin(); it != untouched.end();) {
            const auto block = blocks.find(*it);
            const auto handles = live.rules.find(*it);
            const auto rules =
                block == blocks.end() ? std::vector<std::string>{} : rule_lines(block->second);
            bool jumps = false;
            for (const auto& rule : rules) {
                jumps = jumps || jumps_to(rule, staged_changed);
            }
            if (!jumps) {
                ++it;
                continue;
            }
            if (handles == live.rules.end() || handles->second.size() != rules.size()) {
                it = untouched.erase(it);
                continue;
            }
            for (std::size_t i = 0; i < rules.size(); ++i) {
                if (jumps_to(rules[i], staged_changed)) {
                    replaced += "replace rule" + prefix + identifier(*it) + " handle " +
                                std::to_string(handles->second[i]) + " " +
                                trimmed(retargeted(rules[i], staged_changed)) + "\n";
                }
            }
            ++it;
        }
    }

    std::vector<CleanupStep> flushed_later;
    if (untouched.empty() && !staging) {
        out.commit += "flush table inet " + table + "\n";
    } else {
        for (const auto& chain : existing->chains) {
            if (untouched.count(chain.name) != 0) {
                continue;
            }
            // A regular chain no rule will jump to after the commit keeps its rules until the
            // cleanup (see ReloadTransactions::cleanup): packets may still be inside them.
            const bool left_behind =
                staging && !chain.base &&
                (staged_changed.count(chain.name) != 0 || declared.chains.count(chain.name) == 0);
            if (left_behind) {
                flushed_later.push_back(
                    {CleanupStep::Kind::flush_chain, identifier(chain.name), {}, 0});
            } else {
                out.commit += "flush chain" + prefix + identifier(chain.name) + "\n";
            }
        }
        std::set<std::string> without = untouched;
        without.insert(staged_new.begin(), staged_new.end());
        for (const auto& [name, staged] : staged_changed) {
            without.insert(name);
        }
        body = without_rules_of(text, without);
    }
    if (!staged_changed.empty()) {
        // Rules that are re-added jump to the staged chains.
        std::string retargeted_body;
        walk_chains(body, [&](const std::string& line, const std::string& chain, int depth) {
            retargeted_body +=
                (!chain.empty() && depth >= 2 ? retargeted(line, staged_changed) : line) + "\n";
        });
        body = retargeted_body;
    }
    if (!staged_new.empty() || !staged_changed.empty()) {
        for (const auto& [name, staged] : staged_changed) {
            out.unstage += "flush chain" + prefix + identifier(staged) + "\ndelete chain" + prefix +
                           identifier(staged) + "\n";
        }
        for (const auto& name : staged_new) {
            out.unstage += "flush chain" + prefix + identifier(name) + "\ndelete chain" + prefix +
                           identifier(name) + "\n";
        }
        // Everything but the chains (counters, objects and new sets the rules may name; the
        // elements of sets that exist are the commit's business), and the staged chains' rules.
        static const std::regex set_open(R"(^\s*(set|map) (\S+) \{)");
        std::set<std::string> existing_sets;
        for (const auto& set : existing->sets) {
            existing_sets.insert(set.name);
        }
        int skipping_until = -1; // depth at which a skipped set block ends
        walk_chains(text, [&](const std::string& line, const std::string& chain, int depth) {
            std::smatch match;
            if (skipping_until >= 0) {
                if (depth + brace_balance(line) <= skipping_until) {
                    skipping_until = -1;
                }
                return;
            }
            if (chain.empty() && depth == 1 &&
                (opens_with(line, "set ") || opens_with(line, "map ")) &&
                std::regex_search(line, match, set_open) &&
                existing_sets.count(match[2].str()) != 0) {
                if (depth + brace_balance(line) > 1) {
                    skipping_until = 1;
                }
                return;
            }
            if (chain.empty() || staged_new.count(chain) != 0) {
                out.stage += (chain.empty() ? line : retargeted(line, staged_changed)) + "\n";
            } else if (staged_changed.count(chain) != 0) {
                out.stage += (opens_with(line, "chain ") && std::regex_match(line, chain_open())
                                  ? "\tchain " + staged_changed.at(chain) + " {"
                                  : retargeted(line, staged_changed)) +
                             "\n";
            }
        });
    }
    out.commit += sets;
    for (const auto& flowtable : existing->flowtables) {
        out.commit += "delete flowtable" + prefix + identifier(flowtable) + "\n";
    }
    out.commit += chains;
    out.commit += replaced;
    for (const auto& [name, staged] : staged_changed) {
        // The old chain is empty since the commit; its name goes to the staged one, which
        // keeps its rules (and the packet path its jumps: they go by chain, not name).
        out.cleanup.push_back({CleanupStep::Kind::delete_chain, identifier(name), {}, 0});
        out.cleanup.push_back(
            {CleanupStep::Kind::rename_chain, identifier(staged), identifier(name), 0});
        out.renames = true;
    }
    for (const auto& object : existing->objects) {
        if (declared.objects.count(object.name) == 0) {
            object_keyword(object.type, object.name, table); // one acctc can delete
            out.cleanup.push_back(
                {CleanupStep::Kind::delete_object, identifier(object.name), {}, object.type});
        }
    }
    for (const auto& counter : removed_counters) {
        out.cleanup.push_back(
            {CleanupStep::Kind::delete_object, identifier(counter), {}, NFT_OBJECT_COUNTER});
    }
    out.commit += body + (body.empty() || body.back() == '\n' ? "" : "\n");
    // First in the cleanup: their rules hold the sets, chains and objects deleted after them.
    out.cleanup.insert(out.cleanup.begin(), flushed_later.begin(), flushed_later.end());
    return out;
}

} // namespace acctc::runtime
