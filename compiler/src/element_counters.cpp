#include "element_counters.hpp"

#include "acctc/kernel_jhash.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace acctc {
namespace {

using rules::Field;
using rules::Statement;

// meta values are stored in a register in the CPU's byte order; payload is copied as it lies.
bool host_order(Field field) {
    return std::strncmp(rules::info(field).nft, "meta ", 5) == 0;
}

bool single_points(const Statement& s) {
    for (const auto& entry : s.entries) {
        for (const auto& part : entry.key) {
            if (part.lo != part.hi) {
                return false;
            }
        }
    }
    return true;
}

bool eligible_shape(const rules::Rule& rule, const Statement& s) {
    return s.kind == Statement::Kind::count_map && rule.statements.size() == 2 &&
           &rule.statements[0] == &s && rule.statements[1].kind == Statement::Kind::ret &&
           s.entries.size() >= element_counter_threshold && single_points(s) && s.key.size() <= 4;
}

// Counters some rule counts into other than through an eligible map: they stay objects.
std::unordered_set<std::string> object_uses(const rules::Table& table) {
    std::unordered_set<std::string> used;
    for (const auto& chain : table.chains) {
        for (const auto& rule : chain.rules) {
            for (const auto& s : rule.statements) {
                if (s.kind == Statement::Kind::count) {
                    used.insert(s.name);
                } else if (s.kind == Statement::Kind::count_map &&
                           (chain.hook == rules::Hook::egress ||
                            !eligible_shape(rule, rule.statements[0]))) {
                    for (const auto& entry : s.entries) {
                        used.insert(entry.counter);
                    }
                }
            }
        }
    }
    return used;
}

// A statement of this kind (and name, the key given): no designated initializer, which would
// leave the later members to -Wmissing-field-initializers.
Statement statement(Statement::Kind kind, const std::string& name = {},
                    const std::vector<Field>& key = {}) {
    Statement s;
    s.kind = kind;
    s.name = name;
    s.key = key;
    return s;
}

// Each counter's index by name, found once per element. Open addressing over one flat array of
// indices: a lookup is one probe and one compare of the name it finds (a node-based hash map of
// 100,000 names cost ~10 % of the whole compile, mostly cache misses walking its nodes).
class CounterIndex {
  public:
    explicit CounterIndex(const std::vector<rules::CounterObject>& counters)
        : counters_(counters), slots_(std::bit_ceil(2 * counters.size() + 1), empty) {
        for (std::size_t i = 0; i < counters.size(); ++i) {
            std::size_t slot = first_slot(counters[i].name);
            while (slots_[slot] != empty) {
                slot = (slot + 1) & (slots_.size() - 1);
            }
            slots_[slot] = i;
        }
    }

    // Tried first: the counter as far after the last one found as that one was after its
    // predecessor. A map's entries are in key order, and so are the classes' counters when the
    // classes were written in key order, every other one for alternating protocols: then the
    // flat array (a cache miss per lookup for 100,000 names) is not touched.
    std::size_t at(std::string_view name) {
        const std::size_t guess = last_ + stride_;
        std::size_t found =
            guess < counters_.size() && counters_[guess].name == name ? guess : lookup(name);
        stride_ = found > last_ ? found - last_ : 1;
        last_ = found;
        return found;
    }

  private:
    std::size_t lookup(std::string_view name) const {
        for (std::size_t slot = first_slot(name); slots_[slot] != empty;
             slot = (slot + 1) & (slots_.size() - 1)) {
            if (counters_[slots_[slot]].name == name) {
                return slots_[slot];
            }
        }
        throw std::out_of_range("no counter object '" + std::string(name) + "'");
    }

    static constexpr std::size_t empty = SIZE_MAX;

    std::size_t first_slot(std::string_view name) const {
        return std::hash<std::string_view>{}(name) & (slots_.size() - 1);
    }

    const std::vector<rules::CounterObject>& counters_;
    std::vector<std::size_t> slots_;
    std::size_t last_ = 0;
    std::size_t stride_ = 0;
};

rules::Rule go_rule(const std::string& chain, const std::string& origin) {
    rules::Rule go;
    go.origin = origin;
    go.statements.push_back(statement(Statement::Kind::go, chain));
    return go;
}

} // namespace

std::string hashed_key(const std::vector<Field>& key, const std::vector<Interval>& point) {
    std::string bytes;
    for (std::size_t i = 0; i < key.size(); ++i) {
        const unsigned width = (rules::info(key[i]).width + 7) / 8;
        const u128 value = point[i].lo;
        const std::size_t at = bytes.size();
        // A single field is hashed at its own length; concatenated ones at 4-byte multiples.
        bytes.resize(at + (key.size() == 1 ? width : (width + 3) / 4 * 4), '\0');
        if (host_order(key[i])) { // the CPU's order, as the kernel stores it
            if (width == 1) {
                bytes[at] = static_cast<char>(value);
            } else {
                const auto word = static_cast<std::uint32_t>(value);
                const auto half = static_cast<std::uint16_t>(value);
                std::memcpy(&bytes[at], width == 4 ? static_cast<const void*>(&word) : &half,
                            width);
            }
            continue;
        }
        for (unsigned b = 0; b < width; ++b) { // network order
            bytes[at + b] = static_cast<char>(value >> (8 * (width - 1 - b)));
        }
    }
    return bytes;
}

std::uint32_t key_part(std::string_view hashed, std::uint32_t parts) {
    return nft_jhash(reinterpret_cast<const unsigned char*>(hashed.data()), hashed.size(), 0,
                     parts);
}

const char* counting_set_type(Field field) {
    switch (field) {
    case Field::l4proto:
        return "inet_proto";
    case Field::sport:
    case Field::dport:
        return "inet_service";
    case Field::ip_saddr:
    case Field::ip_daddr:
        return "ipv4_addr";
    case Field::ip6_saddr:
    case Field::ip6_daddr:
        return "ipv6_addr";
    case Field::icmp_type:
        return "icmp_type";
    case Field::icmpv6_type:
        return "icmpv6_type";
    case Field::skuid:
        return "uid";
    case Field::skgid:
        return "gid";
    default:
        throw std::logic_error(std::string("no counting set keyed by ") + rules::info(field).name);
    }
}

std::string element_comment(const rules::CounterObject& counter) {
    const std::size_t room = nft_comment_limit - counter.name.size() - 1;
    const std::string encoded = encode_counter_comment(counter.name, counter.identity, room);
    // Exactly as long as it is: one per class is kept, and the encoding reserves the limit.
    std::string out;
    out.reserve(counter.name.size() + 1 + encoded.size());
    out += counter.name;
    out += ' ';
    out += encoded;
    return out;
}

void use_element_counters(rules::Table& table, std::size_t one_set_keys) {
    const auto objects = object_uses(table);
    CounterIndex index(table.counters);
    // The entry's key as an element of `set`, counting for the entry's counter.
    const auto add_element = [&](rules::CountingSet& set, rules::MapEntry&& entry,
                                 std::string hashed) {
        const std::size_t counter = index.at(entry.counter);
        table.counters[counter].element = true;
        set.counters.push_back(counter);
        set.comments.push_back(element_comment(table.counters[counter]));
        set.hashed.push_back(std::move(hashed));
        set.elements.push_back(std::move(entry));
    };
    // By index: the chains this adds are looked at too (a second map in the rules after one).
    for (std::size_t c = 0; c < table.chains.size(); ++c) {
        if (table.chains[c].hook) {
            continue; // classifications are regular chains
        }
        // One numbering of the chain's sets: a map that is one set leaves the rules after it,
        // and another map among them, in this chain.
        std::size_t sets_in_chain = 0;
        for (std::size_t r = 0; r < table.chains[c].rules.size(); ++r) {
            rules::Rule& rule = table.chains[c].rules[r];
            if (rule.statements.empty() || !eligible_shape(rule, rule.statements[0])) {
                continue;
            }
            const bool stays =
                !objects.empty() &&
                std::any_of(rule.statements[0].entries.begin(), rule.statements[0].entries.end(),
                            [&](const rules::MapEntry& entry) {
                                return objects.count(entry.counter) != 0;
                            });
            if (stays) {
                continue;
            }
            Statement map = std::move(rule.statements[0]);
            const std::string chain = table.chains[c].name;
            const std::size_t wanted =
                (map.entries.size() + element_counter_part_keys - 1) / element_counter_part_keys;
            const auto parts = map.entries.size() > one_set_keys
                                   ? static_cast<std::uint32_t>(std::bit_ceil(wanted))
                                   : 1U;
            if (parts == 1) {
                // One set: the lookup takes the map's place, the rules after it stay.
                rules::CountingSet set;
                set.name = chain + "_e" + std::to_string(sets_in_chain++);
                set.key = map.key;
                set.origin = rule.origin;
                for (auto& entry : map.entries) {
                    std::string hashed = hashed_key(map.key, entry.key);
                    add_element(set, std::move(entry), std::move(hashed));
                }
                rule.statements[0] = statement(Statement::Kind::count_elements, set.name, map.key);
                table.counting_sets.push_back(std::move(set));
                continue;
            }
            std::vector<rules::Chain> added;
            // The rules after the map's move to a chain of their own: what a key in no part
            // meets, and what a packet the dispatch rule's conditions do not match meets, as
            // both met them after the map's rule.
            const std::string miss = chain + "_miss";
            const bool has_rest = r + 1 < table.chains[c].rules.size();
            if (has_rest) {
                auto& rules = table.chains[c].rules;
                rules::Chain rest{miss, std::nullopt, {}, {}};
                rest.rules.assign(
                    std::make_move_iterator(rules.begin() + static_cast<std::ptrdiff_t>(r) + 1),
                    std::make_move_iterator(rules.end()));
                rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(r) + 1, rules.end());
                added.push_back(std::move(rest));
            }
            std::vector<rules::CountingSet> sets(parts);
            Statement dispatch = statement(Statement::Kind::dispatch, {}, map.key);
            for (std::uint32_t p = 0; p < parts; ++p) {
                const std::string part = chain + "_p" + std::to_string(p);
                sets[p].name = chain + "_e" + std::to_string(sets_in_chain + p);
                sets[p].key = map.key;
                sets[p].origin = rule.origin;
                dispatch.entries.push_back({{}, part});
                rules::Chain body{part, std::nullopt, {}, {}};
                // The dispatch checked the rule's conditions.
                rules::Rule lookup;
                lookup.origin = rule.origin;
                lookup.statements.push_back(
                    statement(Statement::Kind::count_elements, sets[p].name, map.key));
                lookup.statements.push_back(statement(Statement::Kind::ret));
                body.rules.push_back(std::move(lookup));
                if (has_rest) {
                    body.rules.push_back(go_rule(miss, rule.origin));
                }
                added.push_back(std::move(body));
            }
            for (auto& entry : map.entries) {
                std::string hashed = hashed_key(map.key, entry.key);
                auto& set = sets[key_part(hashed, parts)];
                add_element(set, std::move(entry), std::move(hashed));
            }
            for (auto& set : sets) {
                table.counting_sets.push_back(std::move(set));
            }
            const std::string origin = rule.origin;
            rule.statements[0] = std::move(dispatch);
            rule.statements.pop_back(); // the parts return
            if (has_rest) {
                table.chains[c].rules.push_back(go_rule(miss, origin));
            }
            for (auto& body : added) {
                table.chains.push_back(std::move(body));
            }
            break; // the rest of this chain moved to its miss chain, which comes later
        }
    }
}

} // namespace acctc
