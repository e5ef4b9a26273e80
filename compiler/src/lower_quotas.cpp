#include "lower_quotas.hpp"

#include <algorithm>
#include <map>

namespace acctc {
namespace {

using rules::Rule;
using rules::Statement;

// The objects of one quota: what each charge rule names, in charge order.
std::vector<rules::QuotaObject> objects_of(const ir::Quota& quota) {
    QuotaIdentity identity{quota.name,      QuotaRole::warn, quota.period,
                           quota.start_day, quota.drop,      quota.origin};
    rules::QuotaObject warn{quota_object_name(identity), quota.warn, identity};
    identity.role = QuotaRole::limit;
    rules::QuotaObject limit{quota_object_name(identity), quota.limit, identity};
    return {std::move(warn), std::move(limit)};
}

// The rules charging `quota` for what `rule` counts; none when it counts none of its counters.
std::vector<Rule> charges(const Rule& rule, const ir::Quota& quota) {
    const auto counts = [&](const std::string& counter) {
        return std::binary_search(quota.counters.begin(), quota.counters.end(), counter);
    };
    std::optional<Statement> charge; // its name is filled per object below
    for (const Statement& s : rule.statements) {
        if (s.kind == Statement::Kind::count && counts(s.name)) {
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
            break; // a rule counts one counter of a packet
        }
    }
    if (!charge) {
        return {};
    }
    std::vector<Rule> out;
    for (const auto& object : objects_of(quota)) {
        Rule r;
        r.conditions = rule.conditions;
        r.origin = quota.origin;
        Statement s = *charge;
        if (s.kind == Statement::Kind::quota) {
            s.name = object.name;
        }
        for (auto& entry : s.entries) {
            entry.counter = object.name;
        }
        r.statements.push_back(std::move(s));
        if (quota.drop && object.identity.role == QuotaRole::limit) {
            Statement drop;
            drop.kind = Statement::Kind::drop;
            r.statements.push_back(drop);
        }
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace

void place_quotas(const std::vector<ir::Quota>& quotas, rules::Table& table) {
    for (const auto& quota : quotas) {
        for (auto& object : objects_of(quota)) {
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
            for (const auto& quota : quotas) {
                for (auto& charge : charges(rule, quota)) {
                    placed.push_back(std::move(charge));
                }
            }
            placed.push_back(std::move(rule));
        }
        chain.rules = std::move(placed);
    }
}

} // namespace acctc
