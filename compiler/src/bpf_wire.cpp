#include "bpf_wire.hpp"

#include "bpf_scope.hpp"
#include "lower.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace acctc {
namespace {

using rules::Condition;
using rules::Field;
using rules::Hook;

// The counters the IR already rules out: what the rules would not show (verdicts, sets the
// program cannot read).
bool plain_counter(const ir::Counter& counter) {
    return counter.verdict == ir::Verdict::none && !counter.host && !counter.follow &&
           counter.listen.empty() && !counter.peers_referenced &&
           counter.match.scopes != ir::scope_passive;
}

// The numbers of a condition as ranges of `field`; none for a set lookup or a cut address.
std::optional<WireCondition> numbers(const Condition& c, WireField field) {
    if (!c.set.empty() || c.prefix != 0 || c.numbers.empty()) {
        return std::nullopt;
    }
    WireCondition out{field, c.negate, {}};
    for (const auto& part : c.numbers.parts()) {
        out.ranges.push_back(bpf_range(part));
    }
    return out;
}

// nfproto 4/6 and the egress chains' EtherTypes as the family.
std::optional<WireCondition> family(const Condition& c) {
    if (!c.set.empty()) {
        return std::nullopt;
    }
    const bool ethertype = c.field == Field::l3proto;
    IntervalSet families;
    for (const unsigned f : {4U, 6U}) {
        if (c.numbers.contains(ethertype ? (f == 4 ? 0x0800 : 0x86dd) : f)) {
            families.add(f, f);
        }
    }
    Condition as_family = c;
    as_family.numbers = families;
    return numbers(as_family, WireField::family);
}

// Where a rule counts, as the program sees it: the device, its hook and the scope.
struct Place {
    std::vector<std::string> devices;
    bool ingress = true;
    WireScope scope = WireScope::any;
};

// The rule in the program's terms; nothing when a condition is beyond it.
std::optional<std::pair<Place, std::vector<WireCondition>>>
translate(const rules::Chain& chain, const rules::Rule& rule, const std::vector<std::string>& once,
          std::vector<std::string>& not_arrived_via) {
    Place place;
    std::vector<std::string> in;
    std::vector<std::string> out;
    std::vector<WireCondition> conditions;
    std::optional<bool> forwarded; // egress chains: the forwarded mark bit
    for (const Condition& c : rule.conditions) {
        std::optional<WireCondition> wire;
        switch (c.field) {
        case Field::iifname:
        case Field::oifname:
            if (c.negate && c.field == Field::iifname && c.set.empty() &&
                *chain.hook == Hook::forward) {
                not_arrived_via = c.names; // counted on arrival instead (a counter of both ways)
                continue;
            }
            if (c.negate || !c.set.empty() ||
                std::any_of(c.names.begin(), c.names.end(),
                            [](const std::string& n) { return n.empty() || n.back() == '*'; })) {
                return std::nullopt;
            }
            (c.field == Field::iifname ? in : out) = c.names;
            continue;
        case Field::packet_mark:
            if (c.mark_bit == arrived_via_mark_bit && c.negate) {
                if (once.empty()) {
                    return std::nullopt;
                }
                not_arrived_via = once; // what did not arrive via the once devices
                continue;
            }
            if (c.mark_bit != forwarded_mark_bit) {
                return std::nullopt;
            }
            forwarded = !c.negate;
            continue;
        case Field::nfproto:
        case Field::l3proto:
            wire = family(c);
            break;
        case Field::l4proto:
            wire = numbers(c, WireField::l4proto);
            break;
        case Field::sport:
            wire = numbers(c, WireField::sport);
            break;
        case Field::dport:
            wire = numbers(c, WireField::dport);
            break;
        case Field::ip_saddr:
            wire = numbers(c, WireField::saddr4);
            break;
        case Field::ip_daddr:
            wire = numbers(c, WireField::daddr4);
            break;
        case Field::ip6_saddr:
            wire = numbers(c, WireField::saddr6);
            break;
        case Field::ip6_daddr:
            wire = numbers(c, WireField::daddr6);
            break;
        default:
            return std::nullopt;
        }
        if (!wire) {
            return std::nullopt;
        }
        conditions.push_back(std::move(*wire));
    }
    // One device side: the program at one device cannot see the other.
    const bool arriving = !in.empty() && out.empty();
    const bool leaving = in.empty() && !out.empty();
    switch (*chain.hook) {
    case Hook::input:
        place = {in, true, WireScope::local};
        return arriving ? std::optional(std::make_pair(place, conditions)) : std::nullopt;
    case Hook::output:
        place = {out, false, WireScope::local};
        return leaving ? std::optional(std::make_pair(place, conditions)) : std::nullopt;
    case Hook::forward:
        place = {arriving ? in : out, arriving, WireScope::forwarded};
        return (arriving && not_arrived_via.empty()) || leaving
                   ? std::optional(std::make_pair(place, conditions))
                   : std::nullopt;
    case Hook::egress:
        place = {{chain.device},
                 false,
                 forwarded.value_or(false) ? WireScope::forwarded : WireScope::local};
        return forwarded && in.empty() && out.empty()
                   ? std::optional(std::make_pair(place, conditions))
                   : std::nullopt;
    default:
        return std::nullopt;
    }
}

// The devices whose arrivals the forward chain marks with arrived_via_mark_bit (lower.cpp).
std::vector<std::string> once_devices(const rules::Table& table) {
    for (const auto& chain : table.chains) {
        for (const auto& rule : chain.rules) {
            const bool marks = std::any_of(
                rule.statements.begin(), rule.statements.end(), [](const rules::Statement& s) {
                    return s.kind == rules::Statement::Kind::mark_packet &&
                           (s.mark_bit & arrived_via_mark_bit) != 0;
                });
            for (const Condition& c : rule.conditions) {
                if (marks && c.field == Field::iifname && !c.negate) {
                    return c.names;
                }
            }
        }
    }
    return {};
}

// A rule of the input chain and its twin of the forward chain (a counter of both scopes): one
// rule of any scope, so the program need not ask the routing table.
void merge_scopes(std::vector<WireRule>& rules) {
    for (auto& rule : rules) {
        if (rule.scope != WireScope::local) {
            continue;
        }
        const auto twin = std::find_if(rules.begin(), rules.end(), [&](const WireRule& other) {
            return other.scope == WireScope::forwarded && other.counter == rule.counter &&
                   other.conditions == rule.conditions &&
                   other.not_arrived_via == rule.not_arrived_via;
        });
        if (twin != rules.end()) {
            rule.scope = WireScope::any;
            rules.erase(twin);
        }
    }
}

} // namespace

WirePlanning plan_bpf_wire(const ir::Policy& policy, const rules::Table& table, bool quotas) {
    // Per kernel counter: its rules, or nothing once one is beyond the program.
    struct Found {
        bool usable = true;
        std::vector<std::pair<Place, WireRule>> rules;
    };
    std::map<std::string, Found> found;
    const std::vector<std::string> once = once_devices(table);
    for (const auto& chain : table.chains) {
        for (const auto& rule : chain.rules) {
            for (const auto& statement : rule.statements) {
                if (statement.kind != rules::Statement::Kind::count &&
                    statement.kind != rules::Statement::Kind::count_map &&
                    statement.kind != rules::Statement::Kind::count_elements) {
                    continue;
                }
                if (statement.kind != rules::Statement::Kind::count) {
                    for (const auto& entry : statement.entries) {
                        found[entry.counter].usable = false;
                    }
                    found[statement.name].usable = false;
                    continue;
                }
                Found& counter = found[statement.name];
                const bool only_count = rule.statements.size() == 1;
                std::vector<std::string> not_arrived_via;
                const auto translated = chain.hook && only_count
                                            ? translate(chain, rule, once, not_arrived_via)
                                            : std::nullopt;
                if (!translated) {
                    counter.usable = false;
                    continue;
                }
                counter.rules.push_back({translated->first,
                                         {0, translated->first.scope, translated->second,
                                          not_arrived_via, rule.origin}});
            }
        }
    }
    WirePlanning out;
    std::map<std::pair<std::string, bool>, std::vector<WireRule>> hooks;
    for (const ir::Counter& counter : policy.counters) {
        if (!plain_counter(counter)) {
            continue;
        }
        std::vector<std::string> objects;
        for (const auto& object : table.counters) {
            if (object.identity.family == counter.name && !object.element) {
                objects.push_back(object.name);
            }
        }
        const auto summed = [&](const std::string& name) {
            return std::any_of(policy.quotas.begin(), policy.quotas.end(), [&](const auto& q) {
                return std::binary_search(q.counters.begin(), q.counters.end(), name);
            });
        };
        const bool usable =
            !objects.empty() && std::all_of(objects.begin(), objects.end(), [&](const auto& name) {
                const auto it = found.find(name);
                return (quotas || !summed(name)) && (it == found.end() || it->second.usable);
            });
        if (!usable) {
            continue;
        }
        out.corrected.insert(counter.name);
        out.plan.declared.push_back(counter.name);
        for (const auto& name : objects) {
            const std::size_t index = out.plan.counters.size();
            out.plan.counters.push_back(name);
            const auto it = found.find(name);
            if (it == found.end()) {
                continue;
            }
            for (auto [place, rule] : it->second.rules) {
                rule.counter = index;
                for (const auto& device : place.devices) {
                    hooks[{device, place.ingress}].push_back(rule);
                }
            }
        }
    }
    for (auto& [where, rules] : hooks) {
        merge_scopes(rules);
        out.plan.hooks.push_back({where.first, where.second, std::move(rules)});
    }
    // A quota's charge rules have its counters' conditions (lower_quotas.cpp): what corrects
    // them corrects it. A per-host quota sums `split host` counters, which are never corrected.
    for (const ir::Quota& quota : policy.quotas) {
        WireQuota wire{quota.name, quota.limit, quota.warn, {}};
        for (std::size_t c = 0; c < out.plan.counters.size(); ++c) {
            if (std::binary_search(quota.counters.begin(), quota.counters.end(),
                                   out.plan.counters[c])) {
                wire.counters.push_back(c);
            }
        }
        if (quotas && !quota.per_host && !wire.counters.empty()) {
            out.plan.quotas.push_back(std::move(wire));
        }
    }
    return out;
}

} // namespace acctc
