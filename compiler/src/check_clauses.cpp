// Clause lists into an ir::Match. ClauseReader has one case per ast::Clause alternative and no
// generic one: std::visit fails to compile while a clause type lacks its case.
#include "check_hosts.hpp"
#include "checker.hpp"
#include "families.hpp"
#include "well_known.hpp"

#include <string_view>

namespace acctc {

namespace {

ir::Side side_of(ast::Side side) {
    switch (side) {
    case ast::Side::source:
        return ir::Side::source;
    case ast::Side::destination:
        return ir::Side::destination;
    case ast::Side::either:
        return ir::Side::either;
    }
    return ir::Side::either;
}

} // namespace

struct Checker::ClauseReader {
    Checker& checker;
    Diagnostics& diag;
    Context context;
    CounterExtras* extras; // counters and classify headers; null in classes and verdict rules
    ClauseSites& sites;
    const std::string& self; // the counter being read ("" outside counters)
    ir::Match match;

    bool in_counter() const { return context == Context::counter; }
    bool in_branch() const { return context == Context::class_branch; }

    // The clause's first word as written, for "not allowed" messages.
    std::string keyword(const ast::ClauseSite& clause) const {
        return checker.file_.text().substr(clause.keyword_range.begin,
                                           clause.keyword_range.end - clause.keyword_range.begin);
    }
    bool only_in(const ast::ClauseSite& clause, bool allowed, const char* where) {
        if (!allowed) {
            diag.error(clause.keyword_range, "'" + keyword(clause) + "' is not allowed " + where);
        }
        return allowed;
    }
    bool outside_branch(const ast::ClauseSite& clause) {
        return only_in(clause, !in_branch(), "in a class; put it in the classify header");
    }
    bool counter_only(const ast::ClauseSite& clause) {
        return only_in(clause, in_counter(),
                       "here; only a counter follows connections, listens or keeps peers");
    }

    void restrict_protocols(const IntervalSet& allowed, SourceRange where) {
        if (match.protocols) {
            const IntervalSet both = match.protocols->intersect(allowed);
            if (both.empty()) {
                diag.error(where, "this protocol contradicts an earlier protocol clause; nothing "
                                  "could match");
            }
            match.protocols = both;
        } else {
            match.protocols = allowed;
        }
    }

    void operator()(const ast::ScopeClause& clause) {
        using Kind = ast::ScopeClause::Kind;
        if (!outside_branch(clause)) {
            return;
        }
        match.scopes |= clause.kind == Kind::local     ? ir::scope_local
                        : clause.kind == Kind::forward ? ir::scope_forward
                                                       : ir::scope_passive;
        sites.scope = clause.range;
        if (clause.kind != Kind::local) {
            (clause.kind == Kind::passive ? sites.passive : sites.forward) = clause.range;
        }
    }

    void operator()(const ast::DirectionClause& clause) {
        if (!outside_branch(clause)) {
            return;
        }
        const bool in = clause.kind == ast::DirectionClause::Kind::in;
        match.directions |= in ? ir::dir_in : ir::dir_out;
        sites.direction = clause.range;
        (in ? sites.in : sites.out) = clause.range;
    }

    void operator()(const ast::ViaClause& clause) {
        if (!outside_branch(clause)) {
            return;
        }
        sites.via = clause.range;
        for (const Item& item : clause.items) {
            auto found = checker.interfaces_.find(item.text);
            if (item.kind != Item::Kind::word || found == checker.interfaces_.end()) {
                diag.error(item.range, "unknown interface '" + item.text +
                                           "'; define it first: interface " + item.text +
                                           " = eth0");
                continue;
            }
            match.via.insert(match.via.end(), found->second.begin(), found->second.end());
        }
    }

    void operator()(const ast::IncludeClause&) { match.include_loopback = true; }

    void operator()(const ast::OwnerClause& clause) {
        if (sites.owner) {
            auto& error = diag.error(clause.range, "owner is given twice");
            error.notes.push_back({*sites.owner, "first given here"});
            return;
        }
        sites.owner = clause.range;
        if (clause.kind == ast::OwnerClause::Kind::cgroup) {
            match.cgroup = checker.cgroup_path(clause.items.front());
            return;
        }
        const bool user = clause.kind == ast::OwnerClause::Kind::user;
        std::vector<Interval> ids;
        for (const Item& item : clause.items) {
            std::optional<std::uint64_t> id;
            if (item.kind == Item::Kind::number) {
                id = checker.number(item, 0xfffffffe, user ? "user id" : "group id");
            } else {
                id = user ? checker.hosts_.user_id(item.text) : checker.hosts_.group_id(item.text);
                if (!id) {
                    diag.error(item.range, std::string("unknown ") + (user ? "user" : "group") +
                                               " '" + item.text +
                                               "' on the host this policy is compiled for");
                }
            }
            if (id) {
                ids.push_back({*id, *id});
            }
        }
        (user ? match.uids : match.gids) = IntervalSet::of(std::move(ids));
    }

    void operator()(const ast::ProtocolClause& clause) {
        IntervalSet protocols;
        for (const Item& item : clause.items) {
            if (auto p = checker.protocol(item)) {
                protocols.add(*p, *p);
            }
        }
        if (!protocols.empty()) {
            restrict_protocols(protocols, clause.range);
        }
    }

    void operator()(const ast::PortClause& clause) {
        std::vector<std::uint8_t> protocols;
        IntervalSet protocol_set;
        for (const auto& token : clause.protocols) {
            const std::uint8_t p = *protocol_number(token.text);
            protocols.push_back(p);
            protocol_set.add(p, p);
        }
        sites.ports = clause.range;
        auto ports = checker.port_items(clause.items, protocols);
        restrict_protocols(protocol_set, clause.range);
        if (ports) { // moved in last: a class each for 100,000 classes
            match.ports.push_back(
                {std::move(protocol_set), side_of(clause.side), std::move(*ports)});
        }
    }

    void operator()(const ast::IcmpClause& clause) {
        const bool v6 = clause.v6;
        if (match.icmp) {
            diag.error(clause.range, "only one icmp clause per match; list the types together");
            return;
        }
        sites.icmp = clause.range;
        ir::IcmpMatch icmp{v6, {}};
        for (const Item& item : clause.items) {
            if (item.kind == Item::Kind::number) {
                if (auto t = checker.number(item, 255, "ICMP type")) {
                    icmp.types.add(*t, *t);
                }
            } else if (auto t = icmp_type_number(item.text, v6)) {
                icmp.types.add(*t, *t);
            } else {
                diag.error(item.range, "unknown " + std::string(v6 ? "ICMPv6" : "ICMP") +
                                           " type '" + item.text + "'" +
                                           (icmp_type_number(item.text, !v6)
                                                ? std::string(v6 ? "; it is an ICMP (IPv4) type"
                                                                 : "; it is an ICMPv6 type")
                                                : std::string()));
            }
        }
        match.icmp = icmp;
        restrict_protocols(IntervalSet::single(v6 ? proto_icmpv6 : proto_icmp), clause.range);
    }

    void operator()(const ast::AddressClause& clause) {
        ir::AddressMatch address;
        address.side = side_of(clause.side);
        AddressList values;
        bool ok = true;
        for (const Item& item : clause.items) {
            if (item.kind != Item::Kind::peers) {
                ok = checker.add_network(item, values) && ok;
                continue;
            }
            sites.peers_ref = item.range;
            if (clause.items.size() != 1) {
                diag.error(item.range, "'peers of' must stand alone in its address list; "
                                       "write a second clause for other addresses");
                ok = false;
            } else if (item.text == self) {
                diag.error(item.range, "a counter cannot match on its own peers");
                ok = false;
            } else if (!checker.counter_index_.contains(item.text)) {
                diag.error(item.range, "unknown counter '" + item.text +
                                           "' in 'peers of' (peers are the addresses a "
                                           "counter's packets went to or came from)");
                ok = false;
            } else {
                address.peers_of = item.text;
            }
        }
        if (ok) {
            NetworkAlias merged = std::move(values).merged();
            address.v4 = std::move(merged.v4);
            address.v6 = std::move(merged.v6);
            match.addresses.push_back(std::move(address));
        }
    }

    void operator()(const ast::FragmentClause& clause) {
        match.fragment = true;
        sites.fragment = clause.range;
    }

    void operator()(const ast::NewClause&) { match.new_connection = true; }

    void operator()(const ast::LengthClause& clause) {
        sites.length = clause.range;
        IntervalSet lengths;
        for (const Item& item : clause.items) {
            if (item.kind == Item::Kind::word) {
                diag.error(item.range,
                           "a packet length is a number of bytes, not '" + item.text + "'");
                continue;
            }
            auto bound = [&](const std::string& text, SourceRange where) {
                return checker.number(Item{Item::Kind::number, text, {}, {}, where}, 65535,
                                      "packet length");
            };
            const SourceRange lower{item.range.begin, item.range.begin + item.text.size()};
            const auto lo = bound(item.text, item.kind == Item::Kind::range ? lower : item.range);
            std::optional<std::uint64_t> hi = lo;
            if (item.kind == Item::Kind::range) {
                hi = item.upper.empty() ? std::optional<std::uint64_t>(65535)
                                        : bound(item.upper, {lower.end + 2, item.range.end});
            }
            if (lo && hi && *lo > *hi) {
                diag.error(item.range, "reversed length range: " + std::to_string(*lo) +
                                           " is above " + std::to_string(*hi));
            } else if (lo && hi) {
                lengths.add(*lo, *hi);
            }
        }
        if (match.length && match.length->intersect(lengths).empty()) {
            diag.error(clause.range, "this length contradicts an earlier length clause; "
                                     "nothing could match");
        }
        match.length = match.length ? match.length->intersect(lengths) : lengths;
    }

    void operator()(const ast::FollowClause& clause) {
        if (!counter_only(clause)) {
            return;
        }
        extras->follow = true;
        extras->follow_range = clause.range;
        sites.follow = clause.range;
    }

    void operator()(const ast::ListenClause& clause) {
        if (!counter_only(clause)) {
            return;
        }
        sites.listen = clause.range;
        for (const Item& item : clause.items) {
            const std::uint8_t p = *protocol_number(item.protocol);
            Item port_item = item;
            port_item.range = {item.range.begin + item.protocol.size() + 1, item.range.end};
            if (auto ports = checker.port_items({port_item}, {p})) {
                extras->listen.push_back({p, *ports});
            }
        }
    }

    void operator()(const ast::PeersClause& clause) {
        if (!counter_only(clause)) {
            return;
        }
        if (auto seconds = checker.duration(clause.timeout)) {
            extras->peers_timeout = seconds;
        }
    }

    // The kinds of `split`: start() says whether the kind is allowed here and reports a
    // repeated one; add() records it.
    bool start_split(const ast::ClauseSite& clause, ir::Split kind, const char* name) {
        const bool allowed =
            in_counter() || (context == Context::classify_header && kind == ir::Split::direction);
        if (!only_in(clause, allowed, "here; a classify header may only split direction")) {
            return false;
        }
        if (extras != nullptr) {
            for (std::size_t i = 0; i < extras->splits.size(); ++i) {
                if (extras->splits[i].kind == kind) {
                    auto& error =
                        diag.error(clause.range, std::string("split ") + name + " is given twice");
                    error.notes.push_back({extras->split_ranges[i], "first given here"});
                }
            }
        }
        return true;
    }
    void add_split(const ast::ClauseSite& clause, ir::SplitSpec split) {
        if (extras != nullptr) {
            extras->splits.push_back(std::move(split));
            extras->split_ranges.push_back(clause.range);
        }
    }

    void operator()(const ast::SplitProtocolClause& clause) {
        if (!start_split(clause, ir::Split::protocol, "protocol")) {
            return;
        }
        ir::SplitSpec split{ir::Split::protocol, {}};
        for (const Item& item : clause.items) {
            auto p = checker.protocol(item);
            if (p && skipped_ipv6_headers().contains(*p)) {
                // A split is one lookup of the l4proto field, which never holds them.
                diag.error(item.range,
                           "split protocol cannot split by the IPv6 extension header " +
                               std::to_string(*p) +
                               ": nft and ip6tables see the upper-layer protocol past it; count "
                               "it with its own 'protocol " +
                               std::to_string(*p) + "' counter");
            } else if (p) {
                split.values.push_back(*p);
            }
        }
        add_split(clause, std::move(split));
    }

    void operator()(const ast::SplitDirectionClause& clause) {
        if (!start_split(clause, ir::Split::direction, "direction")) {
            return;
        }
        sites.split_direction = clause.range;
        add_split(clause, {ir::Split::direction, {}});
    }

    void operator()(const ast::SplitTypeClause& clause) {
        if (!start_split(clause, ir::Split::type, "type")) {
            return;
        }
        sites.split_type = clause.range;
        add_split(clause, {ir::Split::type, {}});
    }

    void operator()(const ast::SplitHostClause& clause) {
        if (!start_split(clause, ir::Split::host, "host")) {
            return;
        }
        extras->host = read_host_split(clause, diag,
                                       [this](const Item& item, IntervalSet& v4, IntervalSet& v6) {
                                           return checker.network_item(item, v4, v6);
                                       });
        add_split(clause, {ir::Split::host, {}});
    }

    void operator()(const ast::SplitOpenerClause& clause) {
        if (!start_split(clause, ir::Split::opener, "opener")) {
            return;
        }
        sites.split_opener = clause.range;
        add_split(clause, {ir::Split::opener, {}});
    }

    void operator()(const ast::VerdictClause& clause) {
        if (!only_in(clause, in_counter(),
                     "here; verdicts belong in a counter or stand alone as "
                     "'drop ...' / 'accept ...'")) {
            return;
        }
        if (extras->verdict != ir::Verdict::none) {
            diag.error(clause.range, "a counter has at most one verdict");
        }
        extras->verdict = clause.kind == ast::VerdictClause::Kind::accept ? ir::Verdict::accept
                                                                          : ir::Verdict::drop;
    }
};

namespace {

// Every clause type has a case of its very own, not one reached through a conversion (a case
// taking ast::ClauseSite would catch every clause and still let std::visit compile).
template <typename Variant>
struct has_own_case;
template <typename... Clauses>
struct has_own_case<std::variant<Clauses...>> {
    template <typename Reader>
    static constexpr bool in() {
        return (requires { static_cast<void (Reader::*)(const Clauses&)>(&Reader::operator()); } &&
                ...);
    }
};

} // namespace

ir::Match Checker::read_match(const std::vector<ast::Clause>& clauses, Context context,
                              CounterExtras* extras, ClauseSites& sites, const std::string& self) {
    static_assert(has_own_case<ast::Clause>::in<ClauseReader>(),
                  "every ast::Clause alternative needs its ClauseReader case");
    ClauseReader reader{*this, diag_, context, extras, sites, self, {}};
    for (const ast::Clause& clause : clauses) {
        std::visit(reader, clause);
    }
    return std::move(reader.match);
}

} // namespace acctc
