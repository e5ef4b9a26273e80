#include "lower_quotas.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace acctc {
namespace {

using rules::Rule;
using rules::Statement;

// warn_object: the warning level has an object of its own; otherwise the limit's identity
// carries it (warn=N), as a per-host quota's sets and an iptables quota's nfacct object do.
QuotaIdentity identity_of(const ir::Quota& quota, QuotaRole role, bool warn_object = true) {
    QuotaIdentity identity{quota.name,      role,       quota.period,
                           quota.start_day, quota.drop, quota.origin};
    if (quota.per_host || !warn_object) {
        identity.warn = quota.warn;
    }
    return identity;
}

// The objects of one quota: what each charge rule names, in charge order.
std::vector<rules::QuotaObject> objects_of(const ir::Quota& quota, bool warn_object) {
    std::vector<rules::QuotaObject> out;
    if (warn_object) {
        const QuotaIdentity identity = identity_of(quota, QuotaRole::warn);
        out.push_back({quota_object_name(identity), quota.warn, identity});
    }
    const QuotaIdentity identity = identity_of(quota, QuotaRole::limit, warn_object);
    out.push_back({quota_object_name(identity), quota.limit, identity});
    return out;
}

// A per-host quota's set for the hosts of one host set: one per key kind.
std::string quota_set_name(const ir::Quota& quota, const rules::DynamicSet& hosts) {
    return quota.name + (hosts.mac ? "_quota_mac" : hosts.v6 ? "_quota_v6" : "_quota_v4");
}

// Host set name -> the set of a per-host quota charged along with it.
using QuotaSets = std::map<std::string, std::string, std::less<>>;

// The per-host quota's sets (added to `sets`), one per key kind its host sets use, room for
// as many hosts as the counter with the most (a counter's hosts may be kept in several sets,
// parts of one key kind); and which host set charges which.
QuotaSets place_quota_sets(const ir::Quota& quota, std::vector<rules::DynamicSet>& sets) {
    QuotaSets charged;
    std::map<std::string, rules::DynamicSet> added;
    std::map<std::pair<std::string, std::string>, std::uint64_t> room; // quota set, counter
    for (const auto& hosts : sets) {
        if (!hosts.identity ||
            !std::binary_search(quota.counters.begin(), quota.counters.end(), hosts.counter)) {
            continue;
        }
        const std::string name = quota_set_name(quota, hosts);
        charged[hosts.name] = name;
        auto [it, inserted] = added.try_emplace(name);
        rules::DynamicSet& set = it->second;
        if (inserted) {
            set.name = name;
            set.v6 = hosts.v6;
            set.mac = hosts.mac;
            set.prefix = hosts.prefix;
            set.origin = quota.origin;
            set.timeout_seconds = 0; // a host keeps its budget's use until the period ends
            set.size = 0;
            set.quota = rules::DynamicSet::Quota{quota.limit, identity_of(quota, QuotaRole::limit)};
        }
        set.size = std::max(set.size, room[{name, hosts.counter}] += hosts.size);
    }
    for (auto& [name, set] : added) {
        sets.push_back(std::move(set));
    }
    return charged;
}

// The statement charging `quota` for what `rule` counts, when it counts one of its counters.
std::optional<Statement> charge_of(const Rule& rule, const ir::Quota& quota,
                                   const QuotaSets& quota_sets) {
    const auto counts = [&](const std::string& counter) {
        return std::binary_search(quota.counters.begin(), quota.counters.end(), counter);
    };
    for (const Statement& s : rule.statements) {
        std::optional<Statement> charge;
        if (quota.per_host) {
            // The host's element in the quota's set, keyed as the host set keys it.
            if (s.kind == Statement::Kind::update_set) {
                if (const auto set = quota_sets.find(s.name); set != quota_sets.end()) {
                    charge = s;
                    charge->name = set->second;
                }
            }
        } else if (s.kind == Statement::Kind::count && counts(s.name)) {
            charge = Statement{};
            charge->kind = Statement::Kind::quota;
        } else if (s.kind == Statement::Kind::count_map) {
            Statement map;
            map.kind = Statement::Kind::quota_map;
            map.key = s.key;
            for (const auto& entry : s.entries) {
                if (counts(entry.counter)) {
                    map.entries.push_back(entry);
                }
            }
            if (!map.entries.empty()) {
                charge = std::move(map);
            }
        }
        if (charge) {
            return charge; // a rule counts one counter of a packet
        }
    }
    return std::nullopt;
}

Rule charge_rule(const Rule& rule, const ir::Quota& quota, Statement charge, bool limit) {
    Rule r;
    r.conditions = rule.conditions;
    r.origin = quota.origin;
    r.statements.push_back(std::move(charge));
    if (quota.drop && limit) {
        Statement drop;
        drop.kind = Statement::Kind::drop;
        r.statements.push_back(drop);
    }
    return r;
}

// The rules charging `quota` for what `rule` counts; none when it counts none of its counters.
std::vector<Rule> charges(const Rule& rule, const ir::Quota& quota, const QuotaSets& quota_sets,
                          bool warn_object) {
    const auto charge = charge_of(rule, quota, quota_sets);
    if (!charge) {
        return {};
    }
    if (quota.per_host) {
        // A set element's quota breaks the rule while under budget, so the drop after it only
        // sees the packets past it. No warning object: the level is read from the use.
        return {charge_rule(rule, quota, *charge, true)};
    }
    std::vector<Rule> out;
    for (const auto& object : objects_of(quota, warn_object)) {
        Statement s = *charge;
        if (s.kind == Statement::Kind::quota) {
            s.name = object.name;
        }
        for (auto& entry : s.entries) {
            entry.counter = object.name;
        }
        out.push_back(
            charge_rule(rule, quota, std::move(s), object.identity.role == QuotaRole::limit));
    }
    return out;
}

} // namespace

void place_quotas(const std::vector<ir::Quota>& quotas, rules::Table& table, bool warn_objects) {
    std::vector<QuotaSets> quota_sets;
    for (const auto& quota : quotas) {
        quota_sets.push_back(quota.per_host ? place_quota_sets(quota, table.sets) : QuotaSets{});
        if (quota.per_host) {
            continue;
        }
        for (auto& object : objects_of(quota, warn_objects)) {
            table.quotas.push_back(std::move(object));
        }
    }
    if (quotas.empty()) {
        return;
    }
    for (auto& chain : table.chains) {
        std::vector<Rule> placed;
        placed.reserve(chain.rules.size());
        for (auto& rule : chain.rules) {
            for (std::size_t i = 0; i < quotas.size(); ++i) {
                for (auto& charge : charges(rule, quotas[i], quota_sets[i], warn_objects)) {
                    placed.push_back(std::move(charge));
                }
            }
            placed.push_back(std::move(rule));
        }
        chain.rules = std::move(placed);
    }
}

} // namespace acctc
