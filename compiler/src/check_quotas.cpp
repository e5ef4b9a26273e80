#include "check_quotas.hpp"

#include "acctc/did_you_mean.hpp"
#include "check.hpp"
#include "families.hpp"
#include "intervals.hpp"
#include "well_known.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

namespace acctc {
namespace {



struct Unit {
    std::string_view name;
    std::uint64_t bytes;
};
// Decimal units are powers of 1000 (as disks and ISPs count), binary ones powers of 1024.
constexpr std::array<Unit, 9> units{{{"B", 1},
                                     {"kB", 1000},
                                     {"MB", 1000 * 1000},
                                     {"GB", 1000ULL * 1000 * 1000},
                                     {"TB", 1000ULL * 1000 * 1000 * 1000},
                                     {"KiB", 1ULL << 10},
                                     {"MiB", 1ULL << 20},
                                     {"GiB", 1ULL << 30},
                                     {"TiB", 1ULL << 40}}};

std::vector<std::string> unit_names() {
    std::vector<std::string> out;
    for (const auto& unit : units) {
        out.emplace_back(unit.name);
    }
    return out;
}

std::optional<unsigned> small_number(const std::string& text) {
    unsigned value = 0;
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

QuotaPeriod period_of(const std::string& word) {
    if (word == "hour") {
        return QuotaPeriod::hour;
    }
    return word == "day" ? QuotaPeriod::day : QuotaPeriod::month;
}

// The kernel counters one `on` name stands for; empty (after reporting) when none.
std::vector<std::string> resolve(const ast::Token& target, const QuotaTargets& targets,
                                 Diagnostics& diag) {
    std::string family = target.text;
    std::vector<std::string> counters;
    if (const auto f = targets.families.find(target.text); f != targets.families.end()) {
        counters = f->second;
    } else if (const auto m = targets.members.find(target.text); m != targets.members.end()) {
        family = m->second;
        counters = {target.text};
    } else {
        std::vector<std::string> known;
        for (const auto& [name, members] : targets.families) {
            known.push_back(name);
        }
        for (const auto& [name, owner] : targets.members) {
            known.push_back(name);
        }
        const auto hint = did_you_mean(target.text, known);
        diag.error(target.range, "'" + target.text +
                                     "' is no counter, split member or class of this policy" +
                                     (hint ? "; did you mean '" + *hint + "'?" : ""));
        return {};
    }
    if (targets.overflow.count(target.text) != 0) {
        diag.error(target.range, "'" + target.text +
                                     "' counts what no host set could take, no host's bytes; a "
                                     "per-host quota names the counter or a host counter");
        return {};
    }
    return counters;
}

} // namespace

QuotaTargets quota_targets(const ir::Policy& policy) {
    QuotaTargets out;
    for (const auto& counter : policy.counters) {
        auto names = all_counter_names(counter);
        for (const auto& name : names) {
            out.members.emplace(name, counter.name);
        }
        if (counter.host) {
            const ir::HostSplit& host = *counter.host;
            out.per_host[counter.name] = {host.side == ir::HostSide::mac, host.v4_prefix,
                                          host.v6_prefix};
            out.overflow.insert(names.begin(), names.end());
            names = host_counter_names(counter);
            for (const auto& name : names) {
                out.members.emplace(name, counter.name);
            }
        }
        out.families[counter.name] = std::move(names);
    }
    for (const auto& classify : policy.classifies) {
        std::vector<std::string>& names = out.families[classify.name];
        for (const auto& object : expand(classify_family(classify))) {
            names.push_back(object.name);
            out.members.emplace(object.name, classify.name);
        }
    }
    return out;
}

std::optional<std::uint64_t> read_size(const ast::Size& size, Diagnostics& diag) {
    if (size.unit.text.empty()) {
        diag.error(size.range, "a size needs its unit: " + size.number +
                                   " B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB "
                                   "(powers of 1024)");
        return std::nullopt;
    }
    const auto unit = std::find_if(units.begin(), units.end(),
                                   [&](const Unit& u) { return u.name == size.unit.text; });
    if (unit == units.end()) {
        const auto hint = did_you_mean(size.unit.text, unit_names());
        diag.error(size.unit.range,
                   "unknown unit '" + size.unit.text +
                       "'; sizes take B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB "
                       "(powers of 1024)" +
                       (hint ? "; did you mean '" + *hint + "'?" : ""));
        return std::nullopt;
    }
    // Exactly: whole digits times the unit, plus the fraction's digits times the unit over
    // 10^digits, which must leave no remainder (bytes are whole).
    const std::string_view text = size.number;
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    auto too_large = [&] {
        diag.error(size.range, "a quota of " + std::string(text) + " " + size.unit.text +
                                   " is more than the kernel can hold (at most 2^63-1 bytes, "
                                   "about 9.2 EB)");
        return std::nullopt;
    };
    if (whole.size() > 19 || fraction.size() > 18) {
        return too_large();
    }
    u128 integer = 0;
    for (char c : whole) {
        integer = integer * 10 + static_cast<unsigned>(c - '0');
    }
    u128 numerator = 0;
    u128 denominator = 1;
    for (char c : fraction) {
        numerator = numerator * 10 + static_cast<unsigned>(c - '0');
        denominator *= 10;
    }
    const u128 scaled = numerator * unit->bytes;
    if (scaled % denominator != 0) {
        diag.error(size.range, std::string(text) + " " + size.unit.text +
                                   " is not a whole number of bytes");
        return std::nullopt;
    }
    const u128 bytes = integer * unit->bytes + scaled / denominator;
    if (bytes > max_quota_bytes) {
        return too_large();
    }
    return static_cast<std::uint64_t>(bytes);
}

namespace {

std::optional<ir::Quota> check_quota(const SourceFile& file, const ast::QuotaDecl& decl,
                                     const QuotaTargets& targets, Diagnostics& diag) {
    ir::Quota quota;
    quota.name = decl.name.text;
    quota.origin = file.origin(decl.range.begin);
    quota.range = decl.name.range;
    const std::size_t errors_before = diag.error_count();
    for (const SourceRange& range : decl.repeated) {
        diag.error(range, "quota '" + quota.name + "' says this twice; give it once");
    }
    if (decl.targets.empty()) {
        diag.error(decl.name.range, "quota '" + quota.name +
                                        "' counts nothing: name its counters with 'on COUNTER'");
    }
    std::map<std::string, const ast::Token*> taken; // kernel counter -> the name that brought it
    // Per-host quotas charge one budget per host: every name must count hosts, and all of them
    // the same way (one address per host, or one prefix, or one MAC address).
    const ast::Token* first = nullptr;
    std::optional<QuotaTargets::HostShape> shape;
    for (const auto& target : decl.targets) {
        const auto member = targets.members.find(target.text);
        const std::string family = member != targets.members.end() ? member->second : target.text;
        const auto host = targets.per_host.find(family);
        if (first == nullptr) {
            first = &target;
            quota.per_host = host != targets.per_host.end();
            if (quota.per_host) {
                shape = host->second;
            }
        } else if (quota.per_host != (host != targets.per_host.end()) &&
                   targets.families.count(family) != 0) {
            auto& error =
                diag.error(target.range, "quota '" + quota.name +
                                             "' mixes per-host counters (a budget per host) with "
                                             "counters without split host (one budget); give each "
                                             "its own quota");
            error.notes.push_back({first->range, "'" + first->text + "' is " +
                                                     (quota.per_host ? "" : "not ") + "per host"});
        } else if (shape && host != targets.per_host.end() && !(host->second == *shape)) {
            auto& error =
                diag.error(target.range, "quota '" + quota.name + "': '" + family +
                                             "' counts hosts another way than '" + first->text +
                                             "' (mac or prefix); a per-host quota's "
                                             "hosts must be the same kind of key");
            error.notes.push_back({first->range, "'" + first->text + "' is here"});
        }
        for (auto& counter : resolve(target, targets, diag)) {
            const auto [it, inserted] = taken.emplace(counter, &target);
            if (!inserted) {
                auto& error = diag.error(target.range, "'" + counter + "' is in quota '" +
                                                           quota.name + "' already");
                error.notes.push_back({it->second->range, "through '" + it->second->text + "'"});
            }
        }
    }
    for (const auto& [counter, target] : taken) {
        quota.counters.push_back(counter);
    }
    if (!decl.limit) {
        diag.error(decl.name.range, "quota '" + quota.name +
                                        "' needs its budget: SIZE per PERIOD (50 GB per month)");
    } else if (const auto limit = read_size(*decl.limit, diag)) {
        if (*limit == 0) {
            diag.error(decl.limit->range, "a quota of zero bytes is spent before the first "
                                          "packet; give a size above 0");
        }
        quota.limit = *limit;
    }
    quota.period = period_of(decl.period.text);
    if (decl.start_day) {
        const auto day = small_number(decl.start_day->text);
        if (quota.period != QuotaPeriod::month) {
            diag.error(decl.start_day->range,
                       "only monthly periods start on a day; 'per " + decl.period.text +
                           "' periods start on the hour or at midnight");
        } else if (!day || *day < 1 || *day > 28) {
            diag.error(decl.start_day->range,
                       "day " + decl.start_day->text +
                           " is not in every month; monthly periods start on day 1..28");
        } else {
            quota.start_day = *day;
        }
    }
    const auto bad_warning = [&](SourceRange range, const std::string& why) {
        diag.error(range, "the warning level " + why + "; it must lie above 0 and below the quota's " +
                              std::to_string(quota.limit) + " bytes");
    };
    if (decl.warn_percent && decl.warn_size) {
        diag.error(decl.warn_size->range, "quota '" + quota.name + "' has a warning level already");
    } else if (decl.warn_size) {
        if (const auto warn = read_size(*decl.warn_size, diag)) {
            quota.warn = *warn;
            if (quota.limit != 0 && (*warn == 0 || *warn >= quota.limit)) {
                bad_warning(decl.warn_size->range, "is " + std::to_string(*warn) + " bytes");
            }
        }
    } else {
        unsigned percent = 80; // the default, docs/language.md
        if (decl.warn_percent) {
            const auto given = small_number(decl.warn_percent->text);
            if (!given || *given < 1 || *given > 99) {
                diag.error(decl.warn_percent->range,
                           "a warning level is a whole percentage from 1 to 99 %");
            } else {
                percent = *given;
            }
        }
        quota.warn = static_cast<std::uint64_t>(u128{quota.limit} * percent / 100);
        if (quota.limit != 0 && quota.warn == 0) {
            bad_warning(decl.warn_percent ? decl.warn_percent->range : decl.name.range,
                        "rounds to 0 bytes");
        }
    }
    quota.drop = decl.drop.has_value();
    if (diag.error_count() != errors_before) {
        return std::nullopt;
    }
    return quota;
}

bool identifier(const std::string& text) {
    return !text.empty() && (std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_') &&
           std::all_of(text.begin(), text.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
           });
}

} // namespace

void check_quotas(const SourceFile& file, const ast::Policy& ast, ir::Policy& policy,
                  Diagnostics& diag) {
    // The targets list every kernel counter (100,000 for as many classes): built only when a
    // quota will look them up.
    const bool any = std::any_of(ast.statements.begin(), ast.statements.end(), [](const auto& s) {
        return std::holds_alternative<ast::QuotaDecl>(s);
    });
    if (!any) {
        return;
    }
    const QuotaTargets targets = quota_targets(policy);
    std::map<std::string, SourceRange, std::less<>> objects; // kernel quota names
    for (const auto& statement : ast.statements) {
        const auto* decl = std::get_if<ast::QuotaDecl>(&statement);
        if (decl == nullptr || diag.too_many()) {
            continue;
        }
        const std::string& name = decl->name.text;
        if (name.size() > max_name_length || !identifier(name)) {
            diag.error(decl->name.range, "quota name '" + name.substr(0, 40) +
                                             "' must be letters, digits and '_', at most " +
                                             std::to_string(max_name_length) + " characters");
            continue;
        }
        bool named = true;
        for (const std::string& object : {name, name + "_warn"}) {
            if (is_nft_keyword(object)) {
                diag.error(decl->name.range, "quota name '" + object +
                                                 "' is an nft keyword and cannot name a quota "
                                                 "object; rename it");
                named = false;
                continue;
            }
            const auto [it, inserted] = objects.emplace(object, decl->name.range);
            if (!inserted) {
                auto& error = diag.error(decl->name.range,
                                         "quota object '" + object + "' is produced twice");
                error.notes.push_back({it->second, "'" + object + "' is first produced here"});
                named = false;
                break;
            }
        }
        auto quota = check_quota(file, *decl, targets, diag);
        if (quota && named) {
            policy.quotas.push_back(std::move(*quota));
        }
    }
}

} // namespace acctc
