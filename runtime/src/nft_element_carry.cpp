#include "nft_element_carry.hpp"

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/errors.hpp"
#include "nft_element_counters.hpp"
#include "nft_host_counters.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>

namespace acctc::runtime {
namespace {

constexpr std::string_view carry_prefix = "_carry";
// At most this many carries per set: with comments of up to 128 bytes, one dump reply.
constexpr std::size_t carries_per_set = 128;

std::string carry_set_comment() {
    return std::string(element_set_comment) + " carry";
}

// One set's elements, taken again when a plain dump was interrupted by a concurrent change.
void dump_whole(NftNetlink& netlink, const std::string& table, const std::string& set,
                const OnCountingElement& on_element) {
    struct Element {
        std::string comment;
        std::string key;
        std::uint64_t packets;
        std::uint64_t bytes;
    };
    for (int attempt = 0; attempt < 10; ++attempt) {
        std::vector<Element> elements;
        const bool whole = dump_counting_set(
            netlink, table, set, false,
            [&](std::string_view comment, std::string_view key, std::uint64_t packets,
                std::uint64_t bytes) {
                elements.push_back({std::string(comment), std::string(key), packets, bytes});
            });
        if (whole) {
            for (const auto& element : elements) {
                on_element(element.comment, element.key, element.packets, element.bytes);
            }
            return;
        }
    }
    throw RuntimeError(ErrorKind::system, "the elements of set " + set + " kept changing");
}

// (key, counter): one element of a classification (a class has each key once).
std::string element_id(std::string_view key, std::string_view counter) {
    return std::to_string(key.size()) + ':' + std::string(key) + std::string(counter);
}

std::string origin_of_comment(std::string_view comment) {
    std::string_view name;
    std::string_view rest;
    if (!split_element_comment(comment, name, rest)) {
        return {};
    }
    return decode_counter_comment(name, rest).origin;
}

// An element comment without its origin (` @FILE:LINE`, the only ` @`: labels are escaped):
// what must stay equal for an element to be kept as it is.
std::string_view without_origin(std::string_view comment) {
    return comment.substr(0, comment.rfind(" @"));
}

std::uint64_t less(std::uint64_t value, std::uint64_t started) {
    return value > started ? value - started : 0; // a reset in between is excluded by the lock
}

} // namespace

bool quotable(std::string_view comment) {
    return comment.find_first_of("\"\\\n") == std::string_view::npos;
}

bool is_carry_set(const std::string& name) {
    return name.starts_with(carry_prefix);
}

ElementReload plan_element_reload(NftNetlink& netlink, const std::string& table,
                                  const std::vector<CompiledPolicy::ElementSet>& wanted,
                                  const std::vector<CompiledCounter>& origins) {
    ElementReload plan;
    std::map<std::string, std::string> live; // name -> comment
    const auto counting = [](std::string_view comment) {
        return comment.starts_with(element_set_comment);
    };
    for (const auto& set : commented_sets(netlink, table, counting)) {
        if (is_carry_set(set.name)) {
            plan.carry_sets.push_back(set.name);
        } else {
            live[set.name] = set.comment;
        }
    }
    std::unordered_map<std::string_view, std::string_view> origin_of;
    origin_of.reserve(origins.size());
    for (const auto& counter : origins) {
        origin_of.emplace(counter.name, counter.origin);
    }
    const auto note_origin = [&](const std::string& counter, std::string_view comment) {
        const auto declared = origin_of.find(counter);
        if (declared != origin_of.end() && origin_of_comment(comment) != declared->second) {
            plan.moved.insert(counter);
        }
    };
    // A carry's comment is its class's too (a reading may take the origin from either).
    for (const auto& set : plan.carry_sets) {
        dump_whole(netlink, table, set,
                   [&](std::string_view comment, std::string_view, std::uint64_t, std::uint64_t) {
                       std::string_view name;
                       std::string_view rest;
                       if (split_element_comment(comment, name, rest)) {
                           note_origin(std::string(name), comment);
                       }
                   });
    }
    std::unordered_map<std::string_view, const CompiledPolicy::ElementSet*> compiled;
    for (const auto& set : wanted) {
        compiled.emplace(set.name, &set);
    }
    // The compiled set a live set is a generation of (NAME, NAME_g1 .. NAME_g3).
    const auto generation_of = [&](std::string_view name) -> const CompiledPolicy::ElementSet* {
        auto found = compiled.find(name);
        if (found == compiled.end() && name.size() > 3 && name.substr(name.size() - 3, 2) == "_g" &&
            name.back() >= '1' && name.back() <= '3') {
            found = compiled.find(name.substr(0, name.size() - 3));
        }
        return found == compiled.end() ? nullptr : found->second;
    };
    const auto types_of = [](const CompiledPolicy::ElementSet& set) {
        std::string types;
        for (const auto& type : set.types) {
            types += (types.empty() ? "" : ".") + type;
        }
        return types;
    };
    // First pass: which live sets hold exactly the elements of their compiled set (keys,
    // counters, comments but their origins). Each element is compared as the dump goes, with
    // nothing copied: the live sets of a large classification hold 100,000 elements, and all
    // but the few a reload changes are kept.
    struct Match {
        // Elements whose comment differs from the policy's (the origin only): counter, comment.
        std::vector<std::pair<std::string, std::string>> moved;
    };
    std::map<std::string, Match> matching; // live sets that match
    for (const auto& [name, comment] : live) {
        const CompiledPolicy::ElementSet* set = generation_of(name);
        if (set == nullptr || counting_set_types(comment) != types_of(*set)) {
            continue;
        }
        std::vector<std::pair<std::string_view, std::size_t>> index; // key -> element
        index.reserve(set->elements.size());
        for (std::size_t i = 0; i < set->elements.size(); ++i) {
            index.emplace_back(set->elements[i].key, i);
        }
        std::sort(index.begin(), index.end());
        for (int attempt = 0;; ++attempt) {
            Match match;
            std::size_t seen = 0;
            bool same = true;
            const bool whole = dump_counting_set(
                netlink, table, name, false,
                [&](std::string_view element_comment, std::string_view key, std::uint64_t,
                    std::uint64_t) {
                    ++seen;
                    const auto at = std::lower_bound(
                        index.begin(), index.end(), key,
                        [](const auto& entry, std::string_view k) { return entry.first < k; });
                    std::string_view counter;
                    std::string_view rest;
                    if (!same || at == index.end() || at->first != key ||
                        !split_element_comment(element_comment, counter, rest)) {
                        same = false;
                        return;
                    }
                    const auto& element = set->elements[at->second];
                    if (counter != element.counter ||
                        without_origin(element_comment) != without_origin(element.comment)) {
                        same = false;
                    } else if (element_comment != element.comment) {
                        match.moved.emplace_back(element.counter, element_comment);
                    }
                });
            if (whole) {
                if (same && seen == set->elements.size()) {
                    matching.emplace(name, std::move(match));
                }
                break;
            }
            if (attempt == 9) {
                throw RuntimeError(ErrorKind::system,
                                   "the elements of set " + name + " kept changing");
            }
        }
    }
    // Which generation each compiled set keeps; the live sets no rule will use are retired.
    std::vector<const CompiledPolicy::ElementSet*> changed;
    for (const auto& set : wanted) {
        const std::array<std::string, 4> names{set.name, set.name + "_g1", set.name + "_g2",
                                               set.name + "_g3"};
        const auto keep = std::find_if(names.begin(), names.end(), [&](const std::string& name) {
            return matching.count(name) != 0;
        });
        if (keep == names.end()) {
            changed.push_back(&set);
            continue;
        }
        plan.kept.insert(*keep);
        plan.names[set.name] = *keep;
        // A kept element keeps its comment: its origin is recorded where it is not the policy's
        // (an element whose comment is the policy's has the policy's origin).
        for (const auto& [counter, comment] : matching.at(*keep).moved) {
            note_origin(counter, comment);
        }
    }
    for (const auto& entry : live) {
        if (plan.kept.count(entry.first) == 0) {
            plan.retired.push_back(entry.first);
            plan.changed = true;
        }
    }
    // Second pass, over the retired sets only (the few a reload changes): the values their
    // elements hold now, for the keys that count for the same class in a new generation.
    struct Old {
        std::string set;
        std::uint64_t packets;
        std::uint64_t bytes;
    };
    std::unordered_map<std::string, Old> old; // element_id -> the element holding it now
    if (!changed.empty()) {
        for (const auto& set : plan.retired) {
            dump_whole(netlink, table, set,
                       [&](std::string_view comment, std::string_view key, std::uint64_t packets,
                           std::uint64_t bytes) {
                           std::string_view name;
                           std::string_view rest;
                           if (split_element_comment(comment, name, rest)) {
                               old[element_id(key, name)] = {set, packets, bytes};
                           }
                       });
        }
    }
    for (const auto* wanted_set : changed) {
        const auto& set = *wanted_set;
        const std::array<std::string, 4> names{set.name, set.name + "_g1", set.name + "_g2",
                                               set.name + "_g3"};
        plan.changed = true;
        const auto fresh = std::find_if(names.begin(), names.end(),
                                        [&](const std::string& name) { return !live.count(name); });
        if (fresh == names.end()) {
            throw RuntimeError(ErrorKind::rejected,
                               "every generation name of set " + set.name + " is in use");
        }
        plan.names[set.name] = *fresh;
        // The generation it follows, when there is exactly one of the same key types.
        std::vector<std::string> before;
        std::copy_if(
            names.begin(), names.end(), std::back_inserter(before), [&](const std::string& name) {
                const auto listed = live.find(name);
                return listed != live.end() && counting_set_types(listed->second) == types_of(set);
            });
        plan.predecessors[*fresh] = before.size() == 1 ? before.front() : std::string();
        auto& starts = plan.starts[*fresh];
        // A key that counts for the same class as before starts where its element is now, under
        // the policy's comment (labels that changed arrive with it).
        std::string keys;
        std::string values;
        for (const auto& element : set.elements) {
            const auto found = old.find(element_id(element.key, element.counter));
            if (found == old.end() || (found->second.packets == 0 && found->second.bytes == 0) ||
                !quotable(element.comment)) {
                continue;
            }
            const std::string text = key_text(element.key, set.types);
            if (text.empty()) {
                continue;
            }
            plan.started[{found->second.set, element.key}] = {found->second.packets,
                                                              found->second.bytes};
            starts[element.key] = {found->second.packets, found->second.bytes};
            keys += (keys.empty() ? "" : ", ") + text;
            values += (values.empty() ? "" : ",\n\t") + text + " counter packets " +
                      std::to_string(found->second.packets) + " bytes " +
                      std::to_string(found->second.bytes) + " comment \"" + element.comment + "\"";
        }
        if (!keys.empty()) {
            const std::string where = " inet " + table + " " + *fresh + " { ";
            plan.initial_values += "delete element" + where + keys + " }\n";
            plan.initial_values += "add element" + where + values + " }\n";
        }
    }
    return plan;
}

std::string with_set_names(std::string definition,
                           const std::map<std::string, std::string>& names) {
    std::unordered_map<std::string_view, std::string_view> renames;
    for (const auto& [from, to] : names) {
        if (from != to) {
            renames.emplace(from, to);
        }
    }
    if (renames.empty()) {
        return definition;
    }
    // Where a set name begins: after `@` (a lookup) and after `\tset ` (a declaration). One
    // pass over the text: a search per renamed set was quadratic (1,024 sets of 10 MB).
    std::vector<std::size_t> begins;
    for (auto at = definition.find('@'); at != std::string::npos;
         at = definition.find('@', at + 1)) {
        begins.push_back(at + 1);
    }
    for (auto at = definition.find("\tset "); at != std::string::npos;
         at = definition.find("\tset ", at + 1)) {
        begins.push_back(at + 5);
    }
    std::sort(begins.begin(), begins.end());
    std::string out;
    out.reserve(definition.size() + 8 * renames.size());
    std::size_t copied = 0;
    for (const auto begin : begins) {
        auto end = definition.find_first_of(" \t\n{},;\"", begin);
        end = end == std::string::npos ? definition.size() : end;
        const auto found = renames.find(std::string_view(definition).substr(begin, end - begin));
        if (found != renames.end()) {
            out.append(definition, copied, begin - copied);
            out += found->second;
            copied = end;
        }
    }
    out.append(definition, copied);
    return out;
}

std::string listed_as_compiled(std::string listing, const std::set<std::string>& counting) {
    std::map<std::string, std::string> names;
    for (const auto& name : counting) {
        const auto suffix = name.rfind("_g");
        if (suffix != std::string::npos && suffix + 3 == name.size() && name.back() >= '1' &&
            name.back() <= '9') {
            names[name] = name.substr(0, suffix);
        }
    }
    std::string text = with_set_names(std::move(listing), names);
    // Carry set blocks: from `\tset _carry...` to the `\t}` that closes it.
    std::string out;
    out.reserve(text.size());
    bool carry = false;
    for (std::size_t at = 0; at < text.size();) {
        auto end = text.find('\n', at);
        end = end == std::string::npos ? text.size() : end + 1;
        const std::string_view line(text.data() + at, end - at);
        if (line.starts_with("\tset " + std::string(carry_prefix))) {
            carry = true;
        } else if (carry && line.starts_with("\t}")) {
            carry = false;
        } else if (!carry) {
            out += line;
        }
        at = end;
    }
    return out;
}

std::string carry_commands(NftNetlink& netlink, const std::string& table, const ElementReload& plan,
                           const std::vector<KernelCounter>& objects,
                           const std::set<std::string>& wanted,
                           const std::vector<CompiledPolicy::ElementSet>& sets,
                           std::vector<KernelCounter>& removed) {
    if (plan.retired.empty() && objects.empty()) {
        return {};
    }
    struct Sum {
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;
        std::string comment; // the element comment: NAME, a space, the counter's comment
    };
    std::map<std::string, Sum> sums;
    const auto add = [&](std::string_view comment, std::uint64_t packets, std::uint64_t bytes) {
        std::string_view name;
        std::string_view rest;
        if (!split_element_comment(comment, name, rest)) {
            return;
        }
        Sum& sum = sums[std::string(name)];
        sum.packets += packets;
        sum.bytes += bytes;
        sum.comment = comment; // the newest: old carries first, the retired elements last
    };
    std::uint64_t generation = 0;
    for (const auto& set : plan.carry_sets) {
        const auto end = set.find('_', carry_prefix.size());
        generation = std::max<std::uint64_t>(
            generation, std::stoull(set.substr(carry_prefix.size(), end - carry_prefix.size())));
        dump_whole(netlink, table, set,
                   [&](std::string_view comment, std::string_view, std::uint64_t packets,
                       std::uint64_t bytes) { add(comment, packets, bytes); });
    }
    for (const auto& object : objects) {
        std::string comment = object.name + " ";
        try {
            comment += encode_counter_comment(object.name,
                                              decode_counter_comment(object.name, object.comment),
                                              nft_comment_limit - comment.size());
        } catch (const std::exception&) {
            // Labels that do not fit beside the name: the carry reads without them.
        }
        add(comment, object.packets, object.bytes);
    }
    for (const auto& set : plan.retired) {
        dump_whole(netlink, table, set,
                   [&](std::string_view comment, std::string_view key, std::uint64_t packets,
                       std::uint64_t bytes) {
                       const auto started = plan.started.find({set, std::string(key)});
                       if (started != plan.started.end()) {
                           packets = less(packets, started->second.first);
                           bytes = less(bytes, started->second.second);
                       }
                       add(comment, packets, bytes);
                   });
    }
    for (const auto& set : sets) {
        for (const auto& element : set.elements) {
            const auto sum = sums.find(element.counter);
            if (sum != sums.end()) {
                sum->second.comment = element.comment;
            }
        }
    }
    std::string commands;
    for (const auto& set : plan.carry_sets) {
        commands += "delete set inet " + table + " " + set + "\n";
    }
    std::size_t count = 0;
    for (const auto& [name, sum] : sums) {
        if (wanted.count(name) == 0) {
            std::string_view counter;
            std::string_view rest;
            split_element_comment(sum.comment, counter, rest);
            removed.push_back({table, name, sum.packets, sum.bytes, std::string(rest)});
            continue;
        }
        if (sum.packets == 0 && sum.bytes == 0) {
            continue;
        }
        const std::size_t slot = count % carries_per_set;
        if (slot == 0) {
            commands += count == 0 ? "" : " }\n";
            commands +=
                "add set inet " + table + " " + std::string(carry_prefix) +
                std::to_string(generation + 1) + "_" + std::to_string(count / carries_per_set) +
                " { type mark; counter; comment \"" + carry_set_comment() + "\"; elements = { ";
        } else {
            commands += ",\n\t";
        }
        commands += std::to_string(slot) + " counter packets " + std::to_string(sum.packets) +
                    " bytes " + std::to_string(sum.bytes) + " comment \"" +
                    (quotable(sum.comment) ? sum.comment : name + " ") + "\"";
        ++count;
    }
    commands += count == 0 ? "" : " }; }\n";
    return commands;
}

} // namespace acctc::runtime
