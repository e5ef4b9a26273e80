// Parse actions: each named *_item, clause and declaration rule hands what it matched to the
// TreeBuilder, which assembles the ast::Policy. Children complete before their parents, so
// items and clauses wait in "pending" lists until the enclosing rule takes them.
#pragma once

#include "ast.hpp"
#include "grammar.hpp"

#include <string>
#include <string_view>
#include <type_traits>

namespace acctc {

struct TreeBuilder {
    const char* base = nullptr; // start of the whole file: ranges are offsets from here
    ast::Policy policy;

    std::vector<ast::Item> items;
    std::vector<ast::Token> protocols;
    ast::Token qualifier;
    std::vector<ast::Clause> clauses;
    std::vector<ast::Clause> header;
    std::vector<ast::Branch> branches;
    ast::Token name;
    SourceRange body_range;
    std::size_t split_begin = 0; // where the pending `split` clause starts

    template <typename Input>
    SourceRange range_of(const Input& in) const {
        return {static_cast<std::size_t>(in.begin() - base),
                static_cast<std::size_t>(in.end() - base)};
    }
    template <typename Input>
    ast::Token token(const Input& in) const {
        return {in.string(), range_of(in)};
    }
    template <typename Input>
    void item(const Input& in, ast::Item::Kind kind, std::string text) {
        ast::Item value;
        value.kind = kind;
        value.text = std::move(text);
        value.range = range_of(in);
        items.push_back(std::move(value));
    }
    // Completes clause type Node over `range` from what its children left pending: the items
    // go to a member named `items`, port protocols to `protocols`. The kinds of `split` span
    // from the `split` keyword, before their own rule (split_action).
    template <typename Node>
    Node& clause_spanning(SourceRange range) {
        Node node;
        node.range = range;
        const std::string_view text(base + range.begin, range.end - range.begin);
        const auto word_end = text.find_first_of(" \t,;\n");
        node.keyword_range = {range.begin,
                              range.begin +
                                  (word_end == std::string_view::npos ? text.size() : word_end)};
        if constexpr (requires { node.items; }) {
            node.items = std::move(items);
        }
        if constexpr (requires { node.protocols; }) {
            node.protocols = std::move(protocols);
        }
        clauses.emplace_back(std::move(node));
        qualifier = {};
        protocols.clear();
        items.clear();
        return std::get<Node>(clauses.back());
    }
    template <typename Node, typename Input>
    Node& clause(const Input& in) {
        return clause_spanning<Node>(range_of(in));
    }
};

namespace grammar {

std::string_view trim(std::string_view text);

template <typename Rule>
struct action : nothing<Rule> {};
// List elements after a ',' and the port of a listen item act like their plain rule.
template <typename Item>
struct action<next_item<Item>> : action<Item> {};

// Items ----------------------------------------------------------------------------------

template <>
struct action<number_item> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.item(in, ast::Item::Kind::number, in.string());
    }
};
template <>
struct action<string_item> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        const std::string text = in.string();
        b.item(in, ast::Item::Kind::string, text.substr(1, text.size() - 2));
    }
};
template <>
struct action<duration_item> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.item(in, ast::Item::Kind::duration, in.string());
    }
};
template <>
struct action<device_item> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        std::string text = in.string();
        if (text.front() == '"') {
            b.item(in, ast::Item::Kind::string, text.substr(1, text.size() - 2));
        } else {
            b.item(in, ast::Item::Kind::word, std::move(text));
        }
    }
};
// Numbers, names and quoted strings share one list (owner ids, protocols, ICMP types).
struct word_or_number_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        std::string text = in.string();
        if (text.front() == '"') {
            b.item(in, ast::Item::Kind::string, text.substr(1, text.size() - 2));
        } else if (text.front() >= '0' && text.front() <= '9') {
            b.item(in, ast::Item::Kind::number, std::move(text));
        } else {
            b.item(in, ast::Item::Kind::word, std::move(text));
        }
    }
};
template <>
struct action<id_item> : word_or_number_action {};
template <>
struct action<protocol_item> : word_or_number_action {};
template <>
struct action<type_item> : word_or_number_action {};

struct address_or_name_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        std::string text = in.string();
        if (text.rfind("peers", 0) == 0 && text.size() > 5 && (text[5] == ' ' || text[5] == '\t')) {
            const std::string_view rest = trim(std::string_view(text).substr(5));
            b.item(in, ast::Item::Kind::peers, std::string(trim(rest.substr(2))));
        } else if (text.find_first_of(":.") != std::string::npos) {
            b.item(in, ast::Item::Kind::address, std::move(text));
        } else {
            b.item(in, ast::Item::Kind::word, std::move(text));
        }
    }
};
template <>
struct action<addr_item> : address_or_name_action {};
template <>
struct action<network_value> : address_or_name_action {};

// "80", "www", "ftp-data..ftp", "1024.." ; for listen items "tcp 21212".
ast::Item port_item_from(std::string_view text);

template <>
struct action<port_item> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        ast::Item value = port_item_from(in.string_view());
        value.range = b.range_of(in);
        b.items.push_back(std::move(value));
    }
};
template <>
struct action<listen_port> : action<port_item> {};
template <>
struct action<listen_item> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        // listen_item contains a port_item whose action already pushed the port.
        const std::string_view text = in.string_view();
        b.items.back().protocol = std::string(text.substr(0, text.find_first_of(" \t")));
        b.items.back().range = b.range_of(in);
    }
};
template <>
struct action<port_protocol_item> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.protocols.push_back(b.token(in));
    }
};

// Qualifiers -----------------------------------------------------------------------------

struct qualifier_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.qualifier = b.token(in);
    }
};
template <>
struct action<owner_id_kind> : qualifier_action {};
template <>
struct action<owner_cgroup_kind> : qualifier_action {};
template <>
struct action<port_direction> : qualifier_action {};
template <>
struct action<icmp_family> : qualifier_action {};
template <>
struct action<address_side> : qualifier_action {};

// split host items, told apart by Item::protocol: "" the side, "/" a prefix length, "within"
// a network, "size" the set size.
template <const char* Tag, ast::Item::Kind Kind>
struct tagged_item_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        std::string text = in.string();
        if (text.front() == '/') {
            text.erase(0, 1);
        }
        b.item(in, Kind, std::move(text));
        b.items.back().protocol = Tag;
    }
};
inline constexpr char host_side_tag[] = "";
inline constexpr char host_prefix_tag[] = "/";
inline constexpr char host_size_tag[] = "size";
template <>
struct action<host_side_item> : tagged_item_action<host_side_tag, ast::Item::Kind::word> {};
template <>
struct action<host_prefix_item> : tagged_item_action<host_prefix_tag, ast::Item::Kind::number> {};
template <>
struct action<host_size_number> : tagged_item_action<host_size_tag, ast::Item::Kind::number> {};
template <>
struct action<host_within_value> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        address_or_name_action::apply(in, b);
        b.items.back().protocol = "within";
    }
};

// Clauses --------------------------------------------------------------------------------
// Every alternative of grammar::clause builds its ast clause type here (checked below).

template <typename Node>
struct clause_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.clause<Node>(in);
    }
};

template <>
struct action<via_clause> : clause_action<ast::ViaClause> {};
template <>
struct action<include_clause> : clause_action<ast::IncludeClause> {};
template <>
struct action<protocol_clause> : clause_action<ast::ProtocolClause> {};
template <>
struct action<fragment_clause> : clause_action<ast::FragmentClause> {};
template <>
struct action<new_clause> : clause_action<ast::NewClause> {};
template <>
struct action<length_clause> : clause_action<ast::LengthClause> {};
template <>
struct action<listen_clause> : clause_action<ast::ListenClause> {};
template <>
struct action<follow_clause> : clause_action<ast::FollowClause> {};
template <>
struct action<peers_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        ast::Item timeout = b.items.back();
        b.clause<ast::PeersClause>(in).timeout = std::move(timeout);
    }
};

// Clauses told apart by their first word (or qualifier): the grammar rule matched one of a few
// keywords, each naming one enumerator.
template <>
struct action<scope_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        using Kind = ast::ScopeClause::Kind;
        const std::string_view word = in.string_view();
        b.clause<ast::ScopeClause>(in).kind = word == "local"     ? Kind::local
                                              : word == "forward" ? Kind::forward
                                                                  : Kind::passive;
    }
};
template <>
struct action<direction_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        using Kind = ast::DirectionClause::Kind;
        b.clause<ast::DirectionClause>(in).kind = in.string_view() == "in" ? Kind::in : Kind::out;
    }
};
template <>
struct action<verdict_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        using Kind = ast::VerdictClause::Kind;
        b.clause<ast::VerdictClause>(in).kind =
            in.string_view() == "accept" ? Kind::accept : Kind::drop;
    }
};
template <>
struct action<owner_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        using Kind = ast::OwnerClause::Kind;
        const std::string q = b.qualifier.text;
        b.clause<ast::OwnerClause>(in).kind = q == "user"    ? Kind::user
                                              : q == "group" ? Kind::group
                                                             : Kind::cgroup;
    }
};
template <>
struct action<icmp_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        const bool v6 = b.qualifier.text == "icmpv6";
        b.clause<ast::IcmpClause>(in).v6 = v6;
    }
};
template <>
struct action<address_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        using ast::Side;
        const std::string q = b.qualifier.text;
        b.clause<ast::AddressClause>(in).side = q == "from" ? Side::source
                                                : q == "to" ? Side::destination
                                                            : Side::either;
    }
};

// `tcp, udp dport 53` is a port clause; a bare `tcp, udp` is a protocol clause.
template <>
struct action<ports_clause> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        if (b.qualifier.text.empty()) {
            for (auto& protocol : b.protocols) {
                ast::Item value;
                value.kind = ast::Item::Kind::word;
                value.text = protocol.text;
                value.range = protocol.range;
                b.items.push_back(std::move(value));
            }
            b.protocols.clear();
            b.clause<ast::ProtocolClause>(in);
            return;
        }
        using ast::Side;
        const std::string q = b.qualifier.text;
        b.clause<ast::PortClause>(in).side = q == "sport"   ? Side::source
                                             : q == "dport" ? Side::destination
                                                            : Side::either;
    }
};

// `split KIND ...`: each kind is a clause type of its own, ranging from the `split` keyword.
template <>
struct action<split_keyword> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.split_begin = b.range_of(in).begin;
    }
};
template <typename Node>
struct split_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.clause_spanning<Node>({b.split_begin, b.range_of(in).end});
    }
};
template <>
struct action<split_protocol> : split_action<ast::SplitProtocolClause> {};
template <>
struct action<split_direction> : split_action<ast::SplitDirectionClause> {};
template <>
struct action<split_type> : split_action<ast::SplitTypeClause> {};
template <>
struct action<split_host> : split_action<ast::SplitHostClause> {};

// A clause rule without an action would parse and build nothing: the policy would silently
// lose the clause. Every alternative of `clause` has one (`split` through its kinds).
template <typename Rule>
inline constexpr bool builds_clause =
    !std::is_base_of_v<nothing<Rule>, action<Rule>> || std::is_same_v<Rule, split_clause>;
template <typename Rules>
struct all_have_actions;
template <typename... Rules>
struct all_have_actions<pegtl::type_list<Rules...>>
    : std::bool_constant<(builds_clause<Rules> && ...)> {};
static_assert(all_have_actions<clause::subs_t>::value &&
                  all_have_actions<split_kind::subs_t>::value,
              "every clause rule needs an action building its ast clause type");

// Declarations ---------------------------------------------------------------------------

template <>
struct action<statement_name> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.name = b.token(in);
    }
};
template <>
struct action<policy_decl> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.policy.statements.emplace_back(ast::PolicyDecl{std::move(b.name), b.range_of(in)});
    }
};
template <ast::AliasDecl::Kind Kind>
struct alias_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.policy.statements.emplace_back(
            ast::AliasDecl{Kind, std::move(b.name), std::move(b.items), b.range_of(in)});
        b.items.clear();
    }
};
template <>
struct action<interface_decl> : alias_action<ast::AliasDecl::Kind::interface> {};
template <>
struct action<network_decl> : alias_action<ast::AliasDecl::Kind::network> {};
template <>
struct action<connmark_decl> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.policy.statements.emplace_back(ast::ConnmarkDecl{b.items.back(), b.range_of(in)});
        b.items.clear();
    }
};
template <>
struct action<counter_decl> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.policy.statements.emplace_back(
            ast::CounterDecl{std::move(b.name), std::move(b.clauses), b.range_of(in)});
        b.clauses.clear();
    }
};
template <>
struct action<branch_label> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.branches.push_back(ast::Branch{b.token(in), false, {}, b.range_of(in)});
    }
};
template <>
struct action<otherwise_label> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.branches.push_back(ast::Branch{b.token(in), true, {}, b.range_of(in)});
    }
};
template <>
struct action<branch> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.branches.back().clauses = std::move(b.clauses);
        b.branches.back().range = b.range_of(in);
        b.clauses.clear();
    }
};
template <>
struct action<classify_header> {
    template <typename Input>
    static void apply(const Input&, TreeBuilder& b) {
        b.header = std::move(b.clauses);
        b.clauses.clear();
    }
};
template <>
struct action<classify_decl> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        ast::ClassifyDecl decl;
        decl.name = std::move(b.name);
        decl.header = std::move(b.header);
        decl.branches = std::move(b.branches);
        decl.body_range = b.body_range;
        decl.range = b.range_of(in);
        b.policy.statements.emplace_back(std::move(decl));
        b.header.clear();
        b.branches.clear();
    }
};
template <>
struct action<classify_body> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        // Remembered for "empty classify" diagnostics.
        b.body_range = b.range_of(in);
    }
};
template <>
struct action<verdict_action> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.name = b.token(in);
    }
};
template <>
struct action<verdict_decl> {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.policy.statements.emplace_back(
            ast::VerdictDecl{std::move(b.name), std::move(b.clauses), b.range_of(in)});
        b.clauses.clear();
    }
};

} // namespace grammar
} // namespace acctc
