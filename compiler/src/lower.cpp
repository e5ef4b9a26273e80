#include "lower.hpp"

#include "families.hpp"
#include "lower_quotas.hpp"
#include "naming.hpp"
#include "well_known.hpp"
#include "wire_differences.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace acctc {
namespace {

using rules::Condition;
using rules::Field;
using rules::Hook;
using rules::Rule;
using rules::Statement;

// One place a match is evaluated: a hook with its interface conditions.
struct Variant {
    Hook hook;
    std::string device;                     // ingress
    std::vector<Condition> conditions;      // every packet crossing this side
    std::optional<ir::Direction> direction; // for split direction names and peer sides
    // What an earlier variant of the same match already takes (`iifname != via` on the forward
    // out-variant when in and out go to one counter): left out of counting, marks and verdicts
    // so a packet arriving and leaving via the interface is taken once. Not for what differs
    // by side: a peers update records the destination of everything leaving via it.
    std::vector<Condition> once{};
};

// The conditions of a variant's counting, mark and verdict rules: each packet taken once.
std::vector<Condition> taken_once(const Variant& v) {
    std::vector<Condition> conditions = v.once;
    conditions.insert(conditions.end(), v.conditions.begin(), v.conditions.end());
    return conditions;
}

// One disjoint alternative of a match's packet conditions.
struct Alternative {
    std::optional<ir::Family> family;
    std::vector<Condition> conditions;
};

Condition on(Field field) {
    Condition c;
    c.field = field;
    return c;
}

Condition names(Field field, std::vector<std::string> values, bool negate = false) {
    Condition c = on(field);
    c.names = std::move(values);
    c.negate = negate;
    return c;
}

Condition numbers(Field field, IntervalSet values, bool negate = false) {
    Condition c = on(field);
    c.numbers = std::move(values);
    c.negate = negate;
    return c;
}

Condition flag(Field field) {
    return on(field);
}

Condition mark(std::uint32_t bit) {
    Condition c = on(Field::ct_mark);
    c.mark_bit = bit;
    return c;
}

Statement count(std::string counter) {
    Statement s;
    s.kind = Statement::Kind::count;
    s.name = std::move(counter);
    return s;
}

Statement simple(Statement::Kind kind, std::string name = {}) {
    Statement s;
    s.kind = kind;
    s.name = std::move(name);
    return s;
}

// before_defrag: arriving packets are taken at prerouting below conntrack's defragmentation,
// local or forwarded by the FIB's verdict on the destination, so fragments count as they
// crossed the wire (docs/counting.md); leaving ones stay where they are (nothing before
// fragmentation but the device's egress sees them).
std::vector<Variant> variants(const ir::Match& match, bool split_direction,
                              bool before_defrag = false) {
    std::vector<Variant> out;
    auto arriving = [&](std::vector<Condition> conditions, bool to_host) -> Variant {
        if (!before_defrag) {
            return {to_host ? Hook::input : Hook::forward, {}, std::move(conditions), ir::dir_in};
        }
        Condition c = on(Field::to_host);
        c.negate = !to_host;
        conditions.push_back(std::move(c));
        return {Hook::prerouting, {}, std::move(conditions), ir::dir_in};
    };
    const std::vector<std::string> loopback{"lo"};
    auto interface_condition = [&](Field field) -> std::vector<Condition> {
        if (!match.via.empty()) {
            return {names(field, match.via)};
        }
        if (!match.include_loopback) {
            return {names(field, loopback, true)};
        }
        return {};
    };
    if (match.scopes & ir::scope_local) {
        if (match.directions & ir::dir_in) {
            out.push_back(arriving(interface_condition(Field::iifname), true));
        }
        if (match.directions & ir::dir_out) {
            out.push_back({Hook::output, {}, interface_condition(Field::oifname), ir::dir_out});
        }
    }
    if (match.scopes & ir::scope_forward) {
        if (match.via.empty()) {
            Variant v = before_defrag ? arriving({}, false) : Variant{Hook::forward, {}, {}, {}};
            v.direction = std::nullopt;
            out.push_back(std::move(v));
        } else {
            const bool both = (match.directions & ir::dir_in) && (match.directions & ir::dir_out);
            if (match.directions & ir::dir_in) {
                out.push_back(arriving({names(Field::iifname, match.via)}, false));
            }
            if (match.directions & ir::dir_out) {
                Variant v{Hook::forward, {}, {names(Field::oifname, match.via)}, ir::dir_out};
                // Taken once when it both arrives and leaves via the interface.
                if (both && !split_direction) {
                    v.once.push_back(names(Field::iifname, match.via, true));
                }
                out.push_back(std::move(v));
            }
        }
    }
    if (match.scopes & ir::scope_passive) {
        for (const auto& device : match.via) {
            out.push_back({Hook::ingress, device, {}, ir::dir_in});
        }
    }
    return out;
}

Field address_field(ir::Family family, bool source) {
    if (family == ir::Family::ipv4) {
        return source ? Field::ip_saddr : Field::ip_daddr;
    }
    return source ? Field::ip6_saddr : Field::ip6_daddr;
}

std::string peers_set(const std::string& counter, ir::Family family) {
    return "peers_" + counter + (family == ir::Family::ipv4 ? "_v4" : "_v6");
}

// Every alternative in `into` combined with every choice (choices are disjoint, so the
// products stay disjoint).
void multiply(std::vector<Alternative>& into, const std::vector<std::vector<Condition>>& choices) {
    std::vector<Alternative> next;
    for (const auto& base : into) {
        for (const auto& choice : choices) {
            Alternative a = base;
            a.conditions.insert(a.conditions.end(), choice.begin(), choice.end());
            next.push_back(std::move(a));
        }
    }
    into = std::move(next);
}

// One condition more on every alternative: multiply() with one choice, without its copies
// (the common case; thousands of classes go through here).
void append(std::vector<Alternative>& into, Condition c) {
    for (std::size_t i = 0; i + 1 < into.size(); ++i) {
        into[i].conditions.push_back(c);
    }
    if (!into.empty()) {
        into.back().conditions.push_back(std::move(c));
    }
}

// An IPv6 protocol list holding extension headers, as disjoint choices: each header present
// (the earlier ones missing), then the upper-layer protocols with every listed header missing,
// so a packet carrying several of them counts once.
std::vector<std::vector<Condition>> ipv6_protocol_choices(const IntervalSet& protocols,
                                                          const IntervalSet& headers) {
    std::vector<std::vector<Condition>> choices;
    std::vector<Condition> missing;
    for (const auto& part : headers.parts()) {
        for (u128 header = part.lo; header <= part.hi; ++header) {
            std::vector<Condition> present = missing;
            present.push_back(numbers(Field::exthdr, IntervalSet::single(header)));
            choices.push_back(std::move(present));
            missing.push_back(numbers(Field::exthdr, IntervalSet::single(header), true));
        }
    }
    const IntervalSet upper = protocols.minus(headers);
    if (!upper.empty()) {
        missing.push_back(numbers(Field::l4proto, upper));
        choices.push_back(std::move(missing));
    }
    return choices;
}

// The packet conditions of a match (everything but scope, direction and interfaces) as
// disjoint alternatives: "either side" and address families multiply out.
std::vector<Alternative> alternatives(const ir::Match& match) {
    // Every member of ir::Match by name: a member added there fails to compile here until it
    // is lowered (here, or in variants() for where a packet is seen).
    [[maybe_unused]] const auto& [scopes_, directions_, via_, include_loopback_, uids_, gids_,
                                  cgroup_, protocols_, ports_, icmp_, addresses_, fragment_,
                                  new_connection_, length_] = match;
    std::vector<Alternative> out{{std::nullopt, {}}};
    out.front().conditions.reserve(4);
    auto extend = [&](const std::vector<std::vector<Condition>>& choices) {
        multiply(out, choices);
    };
    auto add = [&](Condition c) { append(out, std::move(c)); };
    if (match.uids) {
        add(numbers(Field::skuid, *match.uids));
    }
    if (match.gids) {
        add(numbers(Field::skgid, *match.gids));
    }
    if (match.cgroup) {
        add(names(Field::cgroup, {*match.cgroup}));
    }
    if (match.new_connection) {
        add(flag(Field::ct_new));
    }
    const bool icmp_implies_protocol = match.icmp && !match.icmp->types.empty();
    // Extension headers the l4proto field looks past make the protocol family-specific.
    const IntervalSet skipped = match.protocols && !icmp_implies_protocol
                                    ? match.protocols->intersect(skipped_ipv6_headers())
                                    : IntervalSet();
    if (match.protocols && !icmp_implies_protocol && skipped.empty()) {
        add(numbers(Field::l4proto, *match.protocols));
    }
    for (const auto& port : match.ports) {
        if (port.side == ir::Side::source) {
            add(numbers(Field::sport, port.ports));
        } else if (port.side == ir::Side::destination) {
            add(numbers(Field::dport, port.ports));
        } else {
            extend({{numbers(Field::sport, port.ports)},
                    {numbers(Field::sport, port.ports, true), numbers(Field::dport, port.ports)}});
        }
    }
    if (icmp_implies_protocol) {
        add(numbers(match.icmp->v6 ? Field::icmpv6_type : Field::icmp_type, match.icmp->types));
    }

    // Address families: split only when a condition needs a family-specific field.
    bool needs_family = match.fragment || match.length || !skipped.empty();
    bool v4 = true;
    bool v6 = true;
    for (const auto& address : match.addresses) {
        needs_family = true;
        if (address.peers_of.empty()) {
            v4 = v4 && !address.v4.empty();
            v6 = v6 && !address.v6.empty();
        }
    }
    if (match.icmp) {
        (match.icmp->v6 ? v4 : v6) = false;
    }
    if (!needs_family) {
        return out;
    }
    std::vector<Alternative> by_family;
    for (ir::Family family : {ir::Family::ipv4, ir::Family::ipv6}) {
        if ((family == ir::Family::ipv4 && !v4) || (family == ir::Family::ipv6 && !v6)) {
            continue;
        }
        // Lengths shorter than the family's header never match.
        const IntervalSet length =
            match.length ? match.length->intersect(possible_ip_lengths(family == ir::Family::ipv6))
                         : IntervalSet();
        if (match.length && length.empty()) {
            continue;
        }
        // The last family takes the alternatives themselves, the first a copy.
        const bool last = family == ir::Family::ipv6 || !v6;
        std::vector<Alternative> current = last ? std::move(out) : out;
        for (auto& a : current) {
            a.family = family;
        }
        auto extend_family = [&](const std::vector<std::vector<Condition>>& choices) {
            multiply(current, choices);
        };
        auto add_family = [&](Condition c) { append(current, std::move(c)); };
        for (const auto& address : match.addresses) {
            auto lookup = [&](bool source, bool negate) {
                Condition c = on(address_field(family, source));
                c.negate = negate;
                if (!address.peers_of.empty()) {
                    c.set = peers_set(address.peers_of, family);
                } else {
                    c.numbers = family == ir::Family::ipv4 ? address.v4 : address.v6;
                }
                return c;
            };
            const IntervalSet& values = family == ir::Family::ipv4 ? address.v4 : address.v6;
            const Interval all{0, low_bits(family == ir::Family::ipv4 ? 32 : 128)};
            const bool every_address = address.peers_of.empty() && values.parts().size() == 1 &&
                                       values.parts().front() == all;
            if (address.side == ir::Side::either && every_address) {
                // No source is outside it: "to it and not from it" never holds.
                add_family(lookup(true, false));
            } else if (address.side == ir::Side::either) {
                extend_family({{lookup(true, false)}, {lookup(true, true), lookup(false, false)}});
            } else {
                add_family(lookup(address.side == ir::Side::source, false));
            }
        }
        if (match.fragment) {
            add_family(flag(family == ir::Family::ipv4 ? Field::fragment4 : Field::fragment6));
        }
        if (match.length) {
            add_family(
                numbers(family == ir::Family::ipv4 ? Field::length4 : Field::length6, length));
        }
        const bool v6_headers = family == ir::Family::ipv6 && !skipped.empty();
        // Without a field of the family yet, the family itself is the condition.
        const bool family_specific =
            std::any_of(current.front().conditions.begin(), current.front().conditions.end(),
                        [](const Condition& c) {
                            return rules::info(c.field).family != rules::FieldFamily::any;
                        });
        if (!family_specific && !v6_headers) {
            add_family(
                numbers(Field::nfproto, IntervalSet::single(family == ir::Family::ipv4 ? 4 : 6)));
        }
        if (v6_headers) {
            extend_family(ipv6_protocol_choices(*match.protocols, skipped));
        } else if (!skipped.empty()) {
            add_family(numbers(Field::l4proto, *match.protocols));
        }
        if (by_family.empty()) {
            by_family = std::move(current);
        } else {
            by_family.insert(by_family.end(), std::make_move_iterator(current.begin()),
                             std::make_move_iterator(current.end()));
        }
    }
    return by_family;
}

Rule make_rule(std::vector<Condition> a, const std::vector<Condition>& b, std::string origin) {
    Rule rule;
    rule.conditions = std::move(a);
    rule.conditions.insert(rule.conditions.end(), b.begin(), b.end());
    rule.origin = std::move(origin);
    return rule;
}

// Base chains are ordered marks, counts, verdicts; each section keeps source order.
struct ChainBuilder {
    std::vector<Rule> marks, counts, verdicts;
};

class Lowering {
  public:
    Lowering(const ir::Policy& policy, Diagnostics& diagnostics, LowerOptions options)
        : policy_(policy), diag_(diagnostics), options_(options) {}
    rules::Table run();

  private:
    const ir::Policy& policy_;
    Diagnostics& diag_;
    LowerOptions options_;
    std::map<std::pair<Hook, std::string>, ChainBuilder> base_;
    std::vector<rules::Chain> classify_chains_;
    std::vector<rules::Chain> host_chains_; // `split host`: one per set coordinate and side

    ChainBuilder& chain(const Variant& v) { return base_[{v.hook, v.device}]; }
    bool at_egress(const ir::Counter& counter) const;
    std::vector<Variant> egress_variants(const ir::Match& match, const Variant& leaving) const;
    void mark_forwarded_for_egress();
    void lower_counter(const ir::Counter& counter, const rules::CounterFamily& family);
    void lower_classify(const ir::Classify& classify, const rules::CounterFamily& family);
    void lower_verdict(const ir::VerdictRule& verdict);
    Statement counting_statement(const ir::Counter& counter, const rules::CounterFamily& family,
                                 const Variant& v, std::optional<rules::Opener> opener) const;
    std::vector<Condition> split_restriction(const ir::Counter& counter) const;
    std::vector<Rule> counting_rules(const ir::Counter& counter, const rules::CounterFamily& family,
                                     const Variant& v, const std::vector<Condition>& conditions,
                                     std::optional<ir::Family> family_of);
    std::vector<Rule> opener_rules(const ir::Counter& counter, const rules::CounterFamily& family,
                                   const Variant& v, const std::vector<Condition>& conditions,
                                   std::optional<ir::Family> family_of,
                                   std::optional<rules::Opener> opener);
    std::string host_chain(const ir::Counter& counter, const rules::CounterFamily& family,
                           const Coordinate& at, bool source);
    void update_peers(const ir::Counter& counter, const Variant& v,
                      const std::vector<Condition>& conditions, std::optional<ir::Family> family);
    std::vector<Rule> classify_body(const ir::Classify& classify,
                                    const std::vector<std::string>& names);
};

// Splits that take no lookup of a packet field in the counting statement.
bool split_by_side(ir::Split kind) {
    return kind == ir::Split::direction || kind == ir::Split::host || kind == ir::Split::opener;
}

Statement Lowering::counting_statement(const ir::Counter& counter,
                                       const rules::CounterFamily& family, const Variant& v,
                                       std::optional<rules::Opener> opener) const {
    Coordinate at;
    at.direction = family_direction(v.direction);
    at.opener = opener;
    for (const auto& split : counter.splits) {
        if (split_by_side(split.kind)) {
            continue;
        }
        Statement s;
        s.kind = Statement::Kind::count_map;
        const bool type = split.kind == ir::Split::type;
        const bool v6 = counter.match.icmp && counter.match.icmp->v6;
        s.key = {type ? (v6 ? Field::icmpv6_type : Field::icmp_type) : Field::l4proto};
        for (std::uint8_t value : split.values) {
            Coordinate entry = at;
            (type ? entry.icmp_type : entry.protocol) = value;
            s.entries.push_back({{Interval{value, value}}, counter_name(family, entry)});
        }
        return s;
    }
    return count(counter_name(family, at));
}

// What a counter with splits really counts: only the split values.
std::vector<Condition> Lowering::split_restriction(const ir::Counter& counter) const {
    for (const auto& split : counter.splits) {
        if (split_by_side(split.kind)) {
            continue;
        }
        IntervalSet values;
        for (auto v : split.values) {
            values.add(v, v);
        }
        const bool v6 = counter.match.icmp && counter.match.icmp->v6;
        return {numbers(split.kind == ir::Split::type ? (v6 ? Field::icmpv6_type : Field::icmp_type)
                                                      : Field::l4proto,
                        values)};
    }
    return {};
}

// The address naming the host of a packet on this side (docs/language.md, "Per-host
// counters"): local is this machine on input and output, and the via interface's side on
// forward and passive; remote is the other end.
bool host_is_source(ir::HostSide side, const Variant& v) {
    const bool in = v.direction == ir::dir_in;
    const bool via_side = v.hook == Hook::forward || v.hook == Hook::ingress;
    switch (side) {
    case ir::HostSide::source:
    case ir::HostSide::mac: // only arriving packets (check_hosts.cpp): the sender's
        return true;
    case ir::HostSide::destination:
        return false;
    case ir::HostSide::local:
        return via_side ? in : !in;
    case ir::HostSide::remote:
        return via_side ? !in : in;
    }
    return true;
}

// How many parts a `split host` set is kept as (docs/language.md, "Per-host counters"). The
// kernel dumps a set in replies of at most 32 KiB (~450 hosts) and walks it from its start for
// each reply, so reading or resetting one set of n hosts takes time in n²; parts of at most
// host_part_size hosts keep it linear, for a hash and a lookup in a small map per packet.
constexpr std::uint32_t host_part_size = 8192;
constexpr unsigned max_host_parts = 64;

unsigned host_parts(const ir::HostSplit& host, LowerOptions options) {
    unsigned parts = 1;
    while (options.host_parts && parts < max_host_parts && host.size > parts * host_part_size) {
        parts *= 2;
    }
    return parts;
}

// The coordinates of a `split host` family's host sets at one direction: one per protocol or
// ICMP type when `split protocol` or `split type` splits it too (host x protocol: a set per
// protocol, each with its overflow counter), else one.
std::vector<Coordinate> host_coordinates(const rules::CounterFamily& family,
                                         std::optional<rules::Direction> direction) {
    std::vector<Coordinate> out;
    for (std::uint8_t protocol : family.protocols) {
        out.push_back({direction, protocol, std::nullopt, std::nullopt, false});
    }
    for (std::uint8_t type : family.icmp_types) {
        out.push_back({direction, std::nullopt, type, std::nullopt, false});
    }
    if (out.empty()) {
        out.push_back({direction, std::nullopt, std::nullopt, std::nullopt, false});
    }
    return out;
}

// Whether a packet crossing this side goes the way its connection was opened (ct direction
// original) when `opener` opened it: on leaving packets (output, or out via the interface) the
// local end's connections go original, on arriving ones the remote end's.
Condition opener_condition(rules::Opener opener, const Variant& v) {
    if (!v.direction) {
        throw std::logic_error("split opener on a side without a direction");
    }
    const bool leaving = *v.direction == ir::dir_out;
    return flag((opener == rules::Opener::local) == leaving ? Field::ct_orig : Field::ct_reply);
}

// The rules that count one variant's packets: per opener (`split opener`), a counter
// statement, or for `split host` a jump to the chain that counts the packet in its host's set
// element (host_chain()), per protocol or ICMP type of the set.
std::vector<Rule> Lowering::counting_rules(const ir::Counter& counter,
                                           const rules::CounterFamily& family, const Variant& v,
                                           const std::vector<Condition>& conditions,
                                           std::optional<ir::Family> family_of) {
    if (!counter.splits_by(ir::Split::opener)) {
        return opener_rules(counter, family, v, conditions, family_of, std::nullopt);
    }
    std::vector<Rule> out;
    for (rules::Opener opener : family.openers) {
        std::vector<Condition> by_opener = conditions;
        by_opener.push_back(opener_condition(opener, v));
        for (Rule& rule : opener_rules(counter, family, v, by_opener, family_of, opener)) {
            out.push_back(std::move(rule));
        }
    }
    return out;
}

std::vector<Rule> Lowering::opener_rules(const ir::Counter& counter,
                                         const rules::CounterFamily& family, const Variant& v,
                                         const std::vector<Condition>& conditions,
                                         std::optional<ir::Family> family_of,
                                         std::optional<rules::Opener> opener) {
    if (!counter.host) {
        Rule rule = make_rule(taken_once(v), conditions, counter.origin);
        rule.statements.push_back(counting_statement(counter, family, v, opener));
        return {std::move(rule)};
    }
    const ir::HostSplit& host = *counter.host;
    const bool source = host_is_source(host.side, v);
    if (family_of && host.within && (*family_of == ir::Family::ipv6 ? host.v6 : host.v4).empty()) {
        return {}; // no set of this family: `within` names none of its networks
    }
    std::vector<Rule> out;
    for (Coordinate at : host_coordinates(family, family_direction(v.direction))) {
        at.opener = opener;
        Rule jump = make_rule(taken_once(v), conditions, counter.origin);
        if (at.protocol) {
            jump.conditions.push_back(numbers(Field::l4proto, IntervalSet::single(*at.protocol)));
        }
        if (at.icmp_type) {
            const bool icmpv6 = counter.match.icmp && counter.match.icmp->v6;
            jump.conditions.push_back(numbers(icmpv6 ? Field::icmpv6_type : Field::icmp_type,
                                              IntervalSet::single(*at.icmp_type)));
        }
        jump.statements.push_back(
            simple(Statement::Kind::jump, host_chain(counter, family, at, source)));
        out.push_back(std::move(jump));
    }
    return out;
}

// The chain a `split host` coordinate's packets jump to, made on first use (docs/language.md,
// "Per-host counters"): per IP family `update @set { key } return`, then the overflow
// counter. The update of a full set fails and ends its rule before the return, so a packet
// reaches the overflow counter only when its host is missing and did not fit: one set lookup
// per packet, where a second rule testing `key != @set` would take another.
std::string Lowering::host_chain(const ir::Counter& counter, const rules::CounterFamily& family,
                                 const Coordinate& at, bool source) {
    const std::string name = "hosts_" + counter_name(family, at) + (source ? "_src" : "_dst");
    if (std::any_of(host_chains_.begin(), host_chains_.end(),
                    [&](const rules::Chain& c) { return c.name == name; })) {
        return name;
    }
    const ir::HostSplit& host = *counter.host;
    const bool mac = host.side == ir::HostSide::mac;
    // Per IP family; a MAC set is one for both, with family rules only where `within` needs them.
    std::vector<std::optional<ir::Family>> families;
    for (const ir::Family f : {ir::Family::ipv4, ir::Family::ipv6}) {
        if (!host.within || !(f == ir::Family::ipv6 ? host.v6 : host.v4).empty()) {
            families.emplace_back(f);
        }
    }
    if (mac && !host.within) {
        families = {std::nullopt};
    }
    // A family's packets: of its nfproto and, with `within`, from or to those networks.
    auto of_family = [&](std::optional<ir::Family> f) {
        Rule rule = make_rule({}, {}, counter.origin);
        if (f) {
            const bool v6 = *f == ir::Family::ipv6;
            rule.conditions.push_back(numbers(Field::nfproto, IntervalSet::single(v6 ? 6 : 4)));
            if (host.within) {
                rule.conditions.push_back(
                    numbers(address_field(*f, source), v6 ? host.v6 : host.v4));
            }
        }
        return rule;
    };
    Coordinate rest = at;
    rest.overflow = true;
    const unsigned parts = host_parts(host, options_);
    // The update of one set (or part), returning once the host is counted.
    auto update = [&](HostKey key, Field field, std::optional<unsigned> part) {
        Statement s = simple(Statement::Kind::update_set, host_set_name(family, at, key, part));
        s.key = {field};
        s.prefix = key == HostKey::mac ? 0 : key == HostKey::ipv6 ? host.v6_prefix : host.v4_prefix;
        return std::vector<Statement>{std::move(s), simple(Statement::Kind::ret)};
    };
    rules::Chain chain{name, std::nullopt, {}, {}};
    std::vector<rules::Chain> part_chains;
    for (const std::optional<ir::Family> f : families) {
        const bool v6 = f == ir::Family::ipv6;
        const HostKey key = mac ? HostKey::mac : v6 ? HostKey::ipv6 : HostKey::ipv4;
        const Field field = mac ? Field::ether_saddr : address_field(*f, source);
        Rule rule = of_family(f);
        if (parts == 1) {
            rule.statements = update(key, field, std::nullopt);
            chain.rules.push_back(std::move(rule));
            continue;
        }
        // Large: a hash of the key picks the part; each part's chain counts its overflow.
        Statement pick = simple(Statement::Kind::hash_goto);
        pick.key = {field};
        pick.prefix = key == HostKey::mac ? 0 : v6 ? host.v6_prefix : host.v4_prefix;
        const std::string suffix = key == HostKey::mac ? "_mac" : v6 ? "_v6" : "_v4";
        for (unsigned k = 0; k < parts; ++k) {
            rules::Chain part{name + suffix + "_p" + std::to_string(k), std::nullopt, {}, {}};
            part.rules.push_back(make_rule({}, {}, counter.origin));
            part.rules.back().statements = update(key, field, k);
            Rule overflow = make_rule({}, {}, counter.origin);
            overflow.statements.push_back(count(counter_name(family, rest)));
            part.rules.push_back(std::move(overflow));
            pick.entries.push_back({{Interval{k, k}}, part.name});
            part_chains.push_back(std::move(part));
        }
        rule.statements.push_back(std::move(pick));
        chain.rules.push_back(std::move(rule));
    }
    // Without `within` every packet here belongs to one of the sets: one overflow rule. With
    // parts, a packet of a set never comes back here.
    for (const std::optional<ir::Family> f :
         parts > 1     ? std::vector<std::optional<ir::Family>>{}
         : host.within ? families
                       : std::vector<std::optional<ir::Family>>{std::nullopt}) {
        Rule overflow = of_family(f);
        overflow.statements.push_back(count(counter_name(family, rest)));
        chain.rules.push_back(std::move(overflow));
    }
    host_chains_.push_back(std::move(chain));
    for (rules::Chain& part : part_chains) {
        host_chains_.push_back(std::move(part));
    }
    return name;
}

void Lowering::update_peers(const ir::Counter& counter, const Variant& v,
                            const std::vector<Condition>& conditions,
                            std::optional<ir::Family> family) {
    if (!counter.peers_referenced) {
        return;
    }
    const std::vector<Condition> restriction = split_restriction(counter);
    for (ir::Family f : {ir::Family::ipv4, ir::Family::ipv6}) {
        if (family && *family != f) {
            continue;
        }
        // Every packet crossing this side, not taken_once(v): a packet arriving and leaving via
        // the interface has a peer at both ends, as it has with `split direction`.
        Rule rule = make_rule(v.conditions, conditions, counter.origin);
        rule.conditions.insert(rule.conditions.end(), restriction.begin(), restriction.end());
        if (!family) {
            rule.conditions.push_back(
                numbers(Field::nfproto, IntervalSet::single(f == ir::Family::ipv4 ? 4 : 6)));
        }
        // The peer is the far end: the source of what arrives, the destination of what leaves.
        const bool in = v.direction == ir::dir_in;
        const bool out = v.direction == ir::dir_out;
        for (bool source : {true, false}) {
            if ((source && out) || (!source && in)) {
                continue;
            }
            Statement s = simple(Statement::Kind::update_set, peers_set(counter.name, f));
            s.key = {address_field(f, source)};
            rule.statements.push_back(s);
        }
        chain(v).counts.push_back(std::move(rule));
    }
}

bool Lowering::at_egress(const ir::Counter& counter) const {
    return counts_leaving_at_egress(counter, policy_, options_.egress);
}

// The egress chains that take a leaving variant's counting, one per `via` device: this host's
// packets there are those without the forwarded mark bit, a router's those with it.
std::vector<Variant> Lowering::egress_variants(const ir::Match& match,
                                               const Variant& leaving) const {
    Condition forwarded = on(Field::packet_mark);
    forwarded.mark_bit = forwarded_mark_bit;
    forwarded.negate = leaving.hook != Hook::forward;
    std::vector<Condition> conditions{forwarded};
    if (!leaving.once.empty()) { // taken when it arrived via the devices
        Condition arrived = on(Field::packet_mark);
        arrived.mark_bit = arrived_via_mark_bit;
        arrived.negate = true;
        conditions.push_back(arrived);
    }
    std::vector<Variant> out;
    for (const auto& device : match.via) {
        out.push_back({Hook::egress, device, conditions, ir::dir_out});
    }
    return out;
}

// The EtherTypes of IPv4 and IPv6 (both by default).
IntervalSet ip_ethertypes(bool v4 = true, bool v6 = true) {
    IntervalSet types;
    if (v4) {
        types.add(0x0800, 0x0800);
    }
    if (v6) {
        types.add(0x86dd, 0x86dd);
    }
    return types;
}

// Egress chains see no hook names: the family is the link layer's protocol there, and every
// packet a router forwards out via the device carries the forwarded bit until the chain has
// counted it.
void Lowering::mark_forwarded_for_egress() {
    // Some forward counter of both directions counts at egress: mark what arrived via its
    // devices too.
    const auto arrived_via = once_devices(policy_);
    const bool once =
        arrived_via && std::any_of(policy_.counters.begin(), policy_.counters.end(),
                                   [&](const ir::Counter& counter) {
                                       return counts_once(counter) && at_egress(counter);
                                   });
    std::vector<std::string> devices;
    for (auto& [where, built] : base_) {
        if (where.first != Hook::egress) {
            continue;
        }
        devices.push_back(where.second);
        for (auto* section : {&built.marks, &built.counts}) {
            for (Rule& rule : *section) {
                // A field of one family carries its own dependency (nft adds it).
                bool family = false;
                for (Condition& c : rule.conditions) {
                    family = family || rules::info(c.field).family != rules::FieldFamily::any;
                    if (c.field == Field::nfproto) {
                        c.field = Field::l3proto;
                        c.numbers = ip_ethertypes(c.numbers.contains(4), c.numbers.contains(6));
                        family = true;
                    }
                }
                for (const Statement& st : rule.statements) {
                    for (const Field key : st.key) {
                        family = family || rules::info(key).family != rules::FieldFamily::any;
                    }
                }
                if (!family) { // IP only: ARP and others leave via the device too
                    rule.conditions.insert(rule.conditions.begin(),
                                           numbers(Field::l3proto, ip_ethertypes()));
                }
            }
        }
        Condition forwarded = mark(forwarded_mark_bit);
        forwarded.field = Field::packet_mark;
        Rule clear;
        clear.conditions.push_back(forwarded);
        Statement s = simple(Statement::Kind::unmark_packet);
        s.mark_bit = forwarded_mark_bit | (once ? arrived_via_mark_bit : 0);
        clear.statements.push_back(s);
        clear.origin = "forwarded mark";
        built.verdicts.push_back(std::move(clear));
    }
    if (devices.empty()) {
        return;
    }
    Rule rule;
    rule.conditions.push_back(names(Field::oifname, devices));
    Statement s = simple(Statement::Kind::mark_packet);
    s.mark_bit = forwarded_mark_bit;
    rule.statements.push_back(s);
    rule.origin = "forwarded mark";
    auto& marks = base_[{Hook::forward, {}}].marks;
    marks.insert(marks.begin(), std::move(rule));
    if (once) {
        Rule arrived;
        arrived.conditions = {names(Field::iifname, *arrived_via), names(Field::oifname, devices)};
        Statement a = simple(Statement::Kind::mark_packet);
        a.mark_bit = arrived_via_mark_bit;
        arrived.statements.push_back(a);
        arrived.origin = "forwarded mark";
        marks.insert(marks.begin() + 1, std::move(arrived));
    }
}

void Lowering::lower_counter(const ir::Counter& counter, const rules::CounterFamily& family) {
    const ir::Match& match = counter.match;
    // Fragments are counted before conntrack reassembles them (a followed counter's
    // membership needs conntrack, so it stays after); what leaves is counted after the kernel
    // fragments it where the counter allows (at_egress).
    std::vector<Variant> places =
        variants(match, counter.splits_by(ir::Split::direction),
                 options_.fragments_before_defrag && match.fragment && !counter.follow);
    if (at_egress(counter)) {
        std::vector<Variant> moved;
        for (const auto& v : places) {
            const bool leaving =
                v.direction == ir::dir_out && (v.hook == Hook::output || v.hook == Hook::forward);
            if (!leaving) {
                moved.push_back(v);
                continue;
            }
            for (auto& e : egress_variants(match, v)) {
                moved.push_back(std::move(e));
            }
        }
        places = std::move(moved);
    }
    if (!counter.follow) {
        const std::vector<Alternative> alts = alternatives(match);
        for (const auto& v : places) {
            for (const auto& alt : alts) {
                for (Rule& rule : counting_rules(counter, family, v, alt.conditions, alt.family)) {
                    chain(v).counts.push_back(std::move(rule));
                }
                update_peers(counter, v, alt.conditions, alt.family);
            }
        }
        return;
    }

    // Following connections: membership sets the counter's ct mark bit; counting then matches
    // the bit, so replies and the first packet of every member connection count.
    ir::Match criteria = match;
    criteria.scopes = 0;
    criteria.via.clear();
    // Criteria are whatever the match lowers to beyond where (scope, direction, interfaces).
    const std::vector<Alternative> criteria_alts = alternatives(criteria);
    const bool has_criteria =
        std::any_of(criteria_alts.begin(), criteria_alts.end(),
                    [](const Alternative& alt) { return !alt.conditions.empty(); });
    auto set_mark = [&]() {
        Statement s = simple(Statement::Kind::set_mark);
        s.mark_bit = counter.mark_bit;
        return s;
    };
    for (const auto& listen : counter.listen) {
        ir::Match local_in = match;
        local_in.scopes = ir::scope_local;
        local_in.directions = ir::dir_in;
        for (const auto& v : variants(local_in, false)) {
            Rule rule = make_rule(taken_once(v),
                                  {numbers(Field::l4proto, IntervalSet::single(listen.protocol)),
                                   numbers(Field::dport, listen.ports), flag(Field::ct_new)},
                                  counter.origin);
            rule.statements.push_back(set_mark());
            chain(v).marks.push_back(std::move(rule));
        }
    }
    if (has_criteria || counter.listen.empty()) {
        ir::Match where = match;
        if (match.has_owner()) {
            where.scopes = ir::scope_local;
            where.directions = ir::dir_out;
        }
        for (const auto& v : variants(where, false)) {
            for (const auto& alt : criteria_alts) {
                Rule rule = make_rule(taken_once(v), alt.conditions, counter.origin);
                rule.statements.push_back(set_mark());
                chain(v).marks.push_back(std::move(rule));
            }
        }
    }
    for (const auto& v : places) {
        for (Rule& rule :
             counting_rules(counter, family, v, {mark(counter.mark_bit)}, std::nullopt)) {
            chain(v).counts.push_back(std::move(rule));
        }
        update_peers(counter, v, {mark(counter.mark_bit)}, std::nullopt);
    }
}

void Lowering::lower_verdict(const ir::VerdictRule& verdict) {
    const auto kind =
        verdict.verdict == ir::Verdict::accept ? Statement::Kind::accept : Statement::Kind::drop;
    if (verdict.counter != static_cast<std::size_t>(-1)) {
        const ir::Counter& counter = policy_.counters[verdict.counter];
        std::vector<std::vector<Condition>> sets;
        if (counter.follow) {
            sets.push_back({mark(counter.mark_bit)});
        } else {
            for (auto& alt : alternatives(counter.match)) {
                sets.push_back(std::move(alt.conditions));
            }
        }
        const std::vector<Condition> restriction = split_restriction(counter);
        for (const auto& v : variants(counter.match, counter.splits_by(ir::Split::direction))) {
            for (const auto& conditions : sets) {
                Rule rule = make_rule(taken_once(v), conditions, counter.origin);
                rule.conditions.insert(rule.conditions.end(), restriction.begin(),
                                       restriction.end());
                rule.statements.push_back(simple(kind));
                chain(v).verdicts.push_back(std::move(rule));
            }
        }
        return;
    }
    const std::vector<Alternative> alts = alternatives(verdict.match);
    for (const auto& v : variants(verdict.match, false)) {
        for (const auto& alt : alts) {
            Rule rule = make_rule(taken_once(v), alt.conditions, verdict.origin);
            rule.statements.push_back(simple(kind));
            chain(v).verdicts.push_back(std::move(rule));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Classification

// The single key a class constrains, when it constrains exactly one.
struct Key {
    std::vector<Field> fields;       // one field, or two for an address (v4 and v6)
    std::vector<Condition> depends;  // e.g. meta l4proto tcp for a port key
    std::vector<IntervalSet> values; // per field
    bool operator_same(const Key& other) const {
        if (fields != other.fields || depends.size() != other.depends.size()) {
            return false;
        }
        for (std::size_t i = 0; i < depends.size(); ++i) {
            if (depends[i].field != other.depends[i].field ||
                !(depends[i].numbers == other.depends[i].numbers)) {
                return false;
            }
        }
        return true;
    }
};

// The key of a class whose every alternative is one condition on a map-key field (with the
// l4proto condition a port field depends on). Read from the lowered conditions, not from the
// match: any other condition (a new match kind included) leaves the class to the general rules.
// The key is read into `key`, whose buffers serve class after class; false: no single key.
bool single_key(const ir::Match& m, Key& key) {
    bool found = false;
    key.fields.clear();
    key.depends.clear();
    for (auto& alt : alternatives(m)) {
        Condition* keyed = nullptr;
        Condition* protocol = nullptr;
        for (auto& c : alt.conditions) {
            if (c.negate || !c.set.empty() || !rules::info(c.field).map_key) {
                return false;
            }
            Condition*& slot = c.field == Field::l4proto && !protocol ? protocol : keyed;
            if (slot) {
                return false;
            }
            slot = &c;
        }
        if (!keyed) {
            std::swap(keyed, protocol);
        }
        if (!keyed || (protocol && !rules::info(keyed->field).needs_protocol)) {
            return false;
        }
        // A field with a counterpart in the other family keys as the pair, IPv4 first.
        const Field other = rules::info(keyed->field).other_family;
        const bool pair = other != keyed->field;
        const bool v4_first = rules::info(keyed->field).family != rules::FieldFamily::ipv6;
        const Field first = pair && !v4_first ? other : keyed->field;
        if (!found) {
            found = true;
            key.fields.push_back(first);
            if (pair) {
                key.fields.push_back(v4_first ? other : keyed->field);
            }
            key.values.resize(key.fields.size());
            for (auto& values : key.values) {
                values = IntervalSet();
            }
            if (protocol) {
                key.depends.push_back(std::move(*protocol));
            }
        } else if (key.fields.front() != first || key.fields.size() != (pair ? 2u : 1u) ||
                   key.depends.size() != (protocol ? 1u : 0u) ||
                   (protocol && !(key.depends.front().numbers == protocol->numbers))) {
            return false;
        }
        const auto& fields = key.fields;
        const auto at = std::find(fields.begin(), fields.end(), keyed->field) - fields.begin();
        IntervalSet& values = key.values[static_cast<std::size_t>(at)];
        if (values.empty()) {
            values = std::move(keyed->numbers);
        } else {
            values.add(keyed->numbers);
        }
    }
    return found;
}

// What earlier classes already took. Classes written in key order only ever take parts past
// everything taken: those are appended to a vector (no tree node per class to allocate and
// free). The first part that is not moves them into an ordered map, so that thousands of
// classes in any order cost O(n log n), not O(n^2).
class Coverage {
  public:
    // The parts of values not covered yet; they become covered. Valid until the next take():
    // one buffer for all the classes.
    const std::vector<Interval>& take(const IntervalSet& values) {
        std::vector<Interval>& fresh = fresh_;
        fresh.clear();
        for (const Interval& part : values.parts()) {
            // Past everything taken: no walk down the tree.
            if (past_taken(part.lo)) {
                fresh.push_back(part);
                continue;
            }
            to_map();
            u128 cursor = part.lo;
            bool open = true;
            auto it = taken_.upper_bound(part.lo);
            if (it != taken_.begin() && std::prev(it)->second >= part.lo) {
                --it;
            }
            for (; it != taken_.end() && it->first <= part.hi; ++it) {
                if (it->first > cursor) {
                    fresh.push_back({cursor, it->first - 1});
                }
                if (it->second >= part.hi) {
                    open = false;
                    break;
                }
                cursor = std::max(cursor, it->second + 1);
            }
            if (open && cursor <= part.hi) {
                fresh.push_back({cursor, part.hi});
            }
        }
        for (const Interval& part : fresh) {
            if (!in_map_) {
                appended_.push_back(part); // in order: fresh parts of one take() ascend too
            } else {
                taken_.emplace_hint(taken_.end(), part.lo, part.hi); // O(1) when it goes last
            }
        }
        return fresh;
    }

  private:
    bool past_taken(u128 lo) const {
        if (!in_map_) {
            return appended_.empty() || appended_.back().hi < lo;
        }
        return taken_.empty() || taken_.rbegin()->second < lo;
    }
    void to_map() {
        if (in_map_) {
            return;
        }
        for (const Interval& part : appended_) {
            taken_.emplace_hint(taken_.end(), part.lo, part.hi);
        }
        std::vector<Interval>().swap(appended_);
        in_map_ = true;
    }

    bool in_map_ = false;
    std::vector<Interval> appended_; // ascending and disjoint, while !in_map_
    std::map<u128, u128> taken_;     // disjoint; adjacent entries are not merged (not needed)
    std::vector<Interval> fresh_;
};

// protocol + exact ports: `tcp dport 80` / `udp dport 53` classes share the key
// (meta l4proto . th dport): one alternative of exactly an l4proto condition and the port
// condition that depends on it (read from the conditions, as single_key() does, without
// building a Key: thousands of classes come through here).
std::optional<std::pair<Field, std::vector<std::pair<u128, u128>>>>
protocol_port_tuples(const ir::Match& m) {
    const std::vector<Alternative> alts = alternatives(m);
    if (alts.size() != 1 || alts[0].conditions.size() != 2) {
        return std::nullopt;
    }
    const Condition* protocol = nullptr;
    const Condition* port = nullptr;
    for (const auto& c : alts[0].conditions) {
        if (c.negate || !c.set.empty()) {
            return std::nullopt;
        }
        (c.field == Field::l4proto ? protocol : port) = &c;
    }
    if (!protocol || !port || !rules::info(port->field).needs_protocol ||
        !protocol->numbers.all_singletons() || !port->numbers.all_singletons()) {
        return std::nullopt;
    }
    std::vector<std::pair<u128, u128>> tuples;
    for (const auto& proto : protocol->numbers.parts()) {
        for (const auto& value : port->numbers.parts()) {
            tuples.emplace_back(proto.lo, value.lo);
        }
    }
    return std::pair{port->field, std::move(tuples)};
}

// A run of consecutive classes lowered together: the rules, the index past its last class and
// the classes in it that earlier classes of the run leave nothing to.
struct ClassRun {
    std::size_t end = 0;
    std::vector<Rule> rules;
    std::vector<std::size_t> unreachable;
};

// In a classification of several runs, a run of fewer classes stays rules: a lookup costs about
// what a few rules do, and small mixed classifications keep the rules they always had.
constexpr std::size_t min_map_run = 4;

// 1. Classes from `begin` with one key of one shape: a first-match partition into one map per
// field. Each class's key is taken as it is read (100,000 keys are not kept). Ends before the
// first class of another shape (end == begin: that is the first).
ClassRun one_key_run(const std::vector<ir::Class>& classes, std::size_t begin,
                     const std::vector<std::string>& names, const std::string& origin) {
    ClassRun run;
    run.end = begin;
    std::optional<Key> shape;
    std::vector<Coverage> covered;
    std::vector<std::vector<rules::MapEntry>> entries;
    Key key; // read class by class into the same buffers
    for (; run.end < classes.size(); ++run.end) {
        const std::size_t c = run.end;
        if (!single_key(classes[c].match, key) || (shape && !shape->operator_same(key))) {
            break;
        }
        if (!shape) {
            shape = key;
            covered.resize(shape->fields.size());
            entries.resize(shape->fields.size());
        }
        bool reachable = false;
        for (std::size_t f = 0; f < shape->fields.size(); ++f) {
            for (const auto& part : covered[f].take(key.values[f])) {
                entries[f].push_back({{part}, names[c]});
                reachable = true;
            }
        }
        if (!reachable) {
            run.unreachable.push_back(c);
        }
    }
    for (std::size_t f = 0; shape && f < shape->fields.size(); ++f) {
        if (entries[f].empty()) {
            continue;
        }
        const auto by_start = [](const auto& a, const auto& b) {
            return a.key[0].lo < b.key[0].lo;
        };
        // Classes are often written in order: a check instead of moving 100,000 entries.
        if (!std::is_sorted(entries[f].begin(), entries[f].end(), by_start)) {
            std::sort(entries[f].begin(), entries[f].end(), by_start);
        }
        Rule rule = make_rule(shape->depends, {}, origin);
        Statement s;
        s.kind = Statement::Kind::count_map;
        s.key = {shape->fields[f]};
        s.entries = std::move(entries[f]);
        rule.statements.push_back(std::move(s));
        rule.statements.push_back(simple(Statement::Kind::ret));
        run.rules.push_back(std::move(rule));
    }
    return run;
}

// 2. Classes from `begin` of protocol and exact ports: one concatenated-key map. The tuples are
// gathered in class order, then sorted: the first class with a tuple takes it (a tree of 100,000
// tuples cost a walk and a node each); a class that takes none is unreachable. No run (end ==
// begin) past max_concat_entries tuples.
ClassRun protocol_port_run(const std::vector<ir::Class>& classes, std::size_t begin,
                           const std::vector<std::string>& names, const std::string& origin) {
    ClassRun run;
    run.end = begin;
    std::optional<Field> port_field;
    std::vector<std::pair<std::pair<u128, u128>, std::size_t>> tuples; // tuple, class
    for (; run.end < classes.size(); ++run.end) {
        auto t = protocol_port_tuples(classes[run.end].match);
        if (!t || (port_field && *port_field != t->first)) {
            break;
        }
        port_field = t->first;
        for (const auto& tuple : t->second) {
            tuples.emplace_back(tuple, run.end);
        }
    }
    std::sort(tuples.begin(), tuples.end()); // equal tuples stay in class order
    // The first of each run of equal tuples: its class takes it.
    std::vector<std::size_t> takers;
    for (std::size_t i = 0; i < tuples.size(); ++i) {
        if (i == 0 || tuples[i].first != tuples[i - 1].first) {
            takers.push_back(i);
        }
    }
    if (!port_field || takers.size() > max_concat_entries) {
        run.end = begin;
        return run;
    }
    std::vector<bool> reachable(run.end - begin);
    for (const std::size_t i : takers) {
        reachable[tuples[i].second - begin] = true;
    }
    for (std::size_t c = begin; c < run.end; ++c) {
        if (!reachable[c - begin]) {
            run.unreachable.push_back(c);
        }
    }
    Rule rule;
    rule.origin = origin;
    Statement s;
    s.kind = Statement::Kind::count_map;
    s.key = {Field::l4proto, *port_field};
    s.entries.reserve(takers.size());
    for (const std::size_t i : takers) {
        const auto& [tuple, c] = tuples[i];
        s.entries.push_back(
            {{Interval{tuple.first, tuple.first}, Interval{tuple.second, tuple.second}}, names[c]});
    }
    rule.statements.push_back(std::move(s));
    rule.statements.push_back(simple(Statement::Kind::ret));
    run.rules.push_back(std::move(rule));
    return run;
}

// The classes in order, as runs: the longest run of one map's shape from each class on (one key,
// else protocol and port), and 3., one rule per class and alternative, first match returns, for a
// class that starts no run. Runs keep first match: a packet no class of a run takes meets the
// next run's rules, as it met the next class's.
std::vector<Rule> Lowering::classify_body(const ir::Classify& classify,
                                          const std::vector<std::string>& names) {
    const std::vector<ir::Class>& classes = classify.classes;
    std::vector<Rule> body;
    auto unreachable = [&](const ir::Class& cls) { warn_never_matches(classify, cls, diag_); };
    bool catch_all = false; // a class without conditions took everything after it
    for (std::size_t begin = 0; begin < classes.size();) {
        ClassRun run;
        run.end = begin;
        if (!catch_all) {
            run = one_key_run(classes, begin, names, classify.origin);
            if (run.end < classes.size()) {
                ClassRun concat = protocol_port_run(classes, begin, names, classify.origin);
                if (concat.end > run.end) {
                    run = std::move(concat);
                }
            }
            for (const std::size_t c : run.unreachable) {
                unreachable(classes[c]);
            }
        }
        const bool whole = begin == 0 && run.end == classes.size();
        if (run.end > begin && (whole || run.end - begin >= min_map_run)) {
            std::move(run.rules.begin(), run.rules.end(), std::back_inserter(body));
            begin = run.end;
            continue;
        }
        // A short run's classes (a class of no run's shape: that one) as rules. A class without
        // conditions is of no run's shape: only this loop sets catch_all.
        for (const std::size_t last = std::max(run.end, begin + 1); begin < last; ++begin) {
            const ir::Class& cls = classes[begin];
            if (catch_all) {
                unreachable(cls);
            }
            for (const auto& alt : alternatives(cls.match)) {
                Rule rule = make_rule(alt.conditions, {}, cls.origin);
                rule.statements.push_back(count(names[begin]));
                rule.statements.push_back(simple(Statement::Kind::ret));
                body.push_back(std::move(rule));
                catch_all = catch_all || alt.conditions.empty();
            }
        }
    }
    return body;
}

void Lowering::lower_classify(const ir::Classify& classify, const rules::CounterFamily& family) {
    const std::vector<Alternative> scope_alternatives = alternatives(classify.scope);
    for (const auto& v : variants(classify.scope, classify.split_direction)) {
        std::string suffix;
        std::optional<rules::Direction> direction;
        if (classify.split_direction && v.direction) {
            direction = family_direction(v.direction);
            suffix = *v.direction == ir::dir_in ? "_in" : "_out";
        }
        const std::string chain_name = "classify_" + classify.name + suffix;
        const bool exists = std::any_of(classify_chains_.begin(), classify_chains_.end(),
                                        [&](const auto& c) { return c.name == chain_name; });
        if (!exists) {
            // Members: the classes, then otherwise.
            std::vector<std::string> names;
            names.reserve(family.members.size());
            for (std::size_t m = 0; m < family.members.size(); ++m) {
                names.push_back(counter_name(family, {direction, std::nullopt, std::nullopt, m}));
            }
            rules::Chain body{chain_name, std::nullopt, {}, classify_body(classify, names)};
            if (classify.otherwise) {
                Rule rest;
                rest.origin = classify.otherwise->origin;
                rest.statements.push_back(count(names.back()));
                body.rules.push_back(std::move(rest));
            }
            classify_chains_.push_back(std::move(body));
        }
        for (const auto& alt : scope_alternatives) {
            Rule jump = make_rule(taken_once(v), alt.conditions, classify.origin);
            jump.statements.push_back(simple(Statement::Kind::jump, chain_name));
            chain(v).counts.push_back(std::move(jump));
        }
    }
}

// One set per direction, opener, protocol (or ICMP type) and IP family of a `split host`
// counter (or `parts` sets sharing its size: host_parts()), declared after its family.
void declare_host_sets(rules::Table& table, const ir::HostSplit& host, unsigned parts) {
    const rules::CounterFamily& family = table.families.back();
    std::vector<std::optional<rules::Direction>> directions{std::nullopt};
    if (!family.directions.empty()) {
        directions.assign(family.directions.begin(), family.directions.end());
    }
    std::vector<std::optional<rules::Opener>> openers{std::nullopt};
    if (!family.openers.empty()) {
        openers.assign(family.openers.begin(), family.openers.end());
    }
    const bool mac = host.side == ir::HostSide::mac;
    for (const auto& direction : directions) {
        for (const auto& opener : openers) {
            for (Coordinate at : host_coordinates(family, direction)) {
                at.opener = opener;
                for (const HostKey key : mac ? std::vector<HostKey>{HostKey::mac}
                                             : std::vector{HostKey::ipv4, HostKey::ipv6}) {
                    const bool v6 = key == HostKey::ipv6;
                    if (!mac && host.within && (v6 ? host.v6 : host.v4).empty()) {
                        continue;
                    }
                    for (unsigned k = 0; k < parts; ++k) {
                        rules::DynamicSet set;
                        set.name = host_set_name(family, at, key,
                                                 parts > 1 ? std::optional(k) : std::nullopt);
                        set.v6 = v6;
                        set.mac = mac;
                        set.timeout_seconds = host.timeout_seconds;
                        set.origin = family.origin;
                        set.size = (host.size + parts - 1) / parts; // the parts share the bound
                        rules::CounterObject object = counter_object(family, at);
                        set.identity = std::move(object.identity);
                        set.counter = std::move(object.name);
                        set.prefix = mac ? 0 : v6 ? host.v6_prefix : host.v4_prefix;
                        table.sets.push_back(std::move(set));
                    }
                }
            }
        }
    }
}

rules::Table Lowering::run() {
    rules::Table table;
    table.name = policy_.table;
    table.policy = policy_.name;
    for (const auto& counter : policy_.counters) {
        table.families.push_back(counter_family(counter));
        table.families.back().wire = counter_wire_sides(counter, policy_, options_.egress);
        if (counter.peers_referenced) {
            for (ir::Family f : {ir::Family::ipv4, ir::Family::ipv6}) {
                rules::DynamicSet set;
                set.name = peers_set(counter.name, f);
                set.v6 = f == ir::Family::ipv6;
                set.timeout_seconds = counter.peers_timeout_seconds;
                set.origin = counter.origin;
                table.sets.push_back(std::move(set));
            }
        }
        if (counter.host) {
            declare_host_sets(table, *counter.host, host_parts(*counter.host, options_));
        }
    }
    const std::size_t classify_families = table.families.size();
    for (const auto& classify : policy_.classifies) {
        table.families.push_back(classify_family(classify));
        auto& members = table.families.back().members;
        for (std::size_t i = 0; i < members.size(); ++i) {
            const ir::Class& cls =
                i < classify.classes.size() ? classify.classes[i] : *classify.otherwise;
            members[i].wire = wire_sides(classify.scope, cls.match, policy_.uses_conntrack, false);
        }
    }
    std::size_t objects = 0;
    for (const auto& family : table.families) {
        objects += coordinate_count(family);
    }
    table.counters.reserve(objects); // one block, not a copy per family and doubling
    for (const auto& family : table.families) {
        expand_into(family, table.counters);
    }
    for (const auto& item : policy_.order) {
        if (item.is_classify) {
            lower_classify(policy_.classifies[item.index],
                           table.families[classify_families + item.index]);
        } else {
            lower_counter(policy_.counters[item.index], table.families[item.index]);
        }
    }
    for (const auto& verdict : policy_.verdicts) {
        lower_verdict(verdict);
    }
    mark_forwarded_for_egress();
    for (auto& [where, built] : base_) {
        rules::Chain c;
        c.hook = where.first;
        c.device = where.second;
        c.name = where.first == Hook::ingress  ? ingress_chain_name(where.second)
                 : where.first == Hook::egress ? egress_chain_name(where.second)
                                               : rules::hook_name(where.first);
        for (auto* section : {&built.marks, &built.counts, &built.verdicts}) {
            c.rules.insert(c.rules.end(), std::make_move_iterator(section->begin()),
                           std::make_move_iterator(section->end()));
        }
        table.chains.push_back(std::move(c));
    }
    for (auto* chains : {&classify_chains_, &host_chains_}) {
        for (auto& c : *chains) {
            table.chains.push_back(std::move(c));
        }
    }
    return table;
}

} // namespace

void warn_never_matches(const ir::Classify& classify, const ir::Class& cls,
                        Diagnostics& diagnostics) {
    diagnostics.warning(cls.range, "class '" + cls.label +
                                       "' can never match: earlier classes of '" + classify.name +
                                       "' take all its packets");
}

rules::Table lower_policy(const ir::Policy& policy, Diagnostics& diagnostics,
                          LowerOptions options) {
    rules::Table table = Lowering(policy, diagnostics, options).run();
    place_quotas(policy.quotas, table, options.quota_warn_objects);
    return table;
}

} // namespace acctc
