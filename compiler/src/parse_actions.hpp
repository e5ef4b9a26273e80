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
    template <typename Input>
    void clause(const Input& in, std::string keyword) {
        ast::Clause c;
        c.keyword = std::move(keyword);
        c.qualifier = std::move(qualifier.text);
        c.protocols = std::move(protocols);
        c.items = std::move(items);
        c.range = range_of(in);
        const std::string_view text(in.begin(), in.size());
        const auto word_end = text.find_first_of(" \t,;\n");
        c.keyword_range = {c.range.begin,
                           c.range.begin +
                               (word_end == std::string_view::npos ? text.size() : word_end)};
        clauses.push_back(std::move(c));
        qualifier = {};
        protocols.clear();
        items.clear();
    }
};

namespace grammar {

std::string_view trim(std::string_view text);

// Clause rules that name their keyword in the grammar (`static constexpr const char* keyword`)
// need no action of their own here.
template <typename Rule>
struct keyword_clause_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.clause(in, Rule::keyword);
    }
};

template <typename Rule>
    struct action : std::conditional_t < requires {
    Rule::keyword;
}, keyword_clause_action<Rule>, nothing < Rule >> {};
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
template <>
struct action<split_protocol_kind> : qualifier_action {};
template <>
struct action<split_direction> : qualifier_action {};
template <>
struct action<split_type> : qualifier_action {};
template <>
struct action<split_host_kind> : qualifier_action {};
template <>
struct action<split_opener> : qualifier_action {};

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

template <const char* Keyword>
struct clause_action {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.clause(in, Keyword);
    }
};
struct clause_named_by_text {
    template <typename Input>
    static void apply(const Input& in, TreeBuilder& b) {
        b.clause(in, in.string());
    }
};

inline constexpr char via_keyword[] = "via";
inline constexpr char include_keyword[] = "include";
inline constexpr char owner_keyword[] = "owner";
inline constexpr char protocol_keyword[] = "protocol";
inline constexpr char icmp_keyword[] = "icmp";
inline constexpr char address_keyword[] = "address";
inline constexpr char fragment_keyword[] = "fragment";
inline constexpr char new_keyword[] = "new";
inline constexpr char listen_keyword[] = "listen";
inline constexpr char follow_keyword[] = "follow";
inline constexpr char split_keyword[] = "split";
inline constexpr char peers_keyword[] = "peers";

template <>
struct action<scope_clause> : clause_named_by_text {};
template <>
struct action<direction_clause> : clause_named_by_text {};
template <>
struct action<verdict_clause> : clause_named_by_text {};
template <>
struct action<via_clause> : clause_action<via_keyword> {};
template <>
struct action<include_clause> : clause_action<include_keyword> {};
template <>
struct action<owner_clause> : clause_action<owner_keyword> {};
template <>
struct action<protocol_clause> : clause_action<protocol_keyword> {};
template <>
struct action<icmp_clause> : clause_action<icmp_keyword> {};
template <>
struct action<address_clause> : clause_action<address_keyword> {};
template <>
struct action<fragment_clause> : clause_action<fragment_keyword> {};
template <>
struct action<new_clause> : clause_action<new_keyword> {};
template <>
struct action<listen_clause> : clause_action<listen_keyword> {};
template <>
struct action<follow_clause> : clause_action<follow_keyword> {};
template <>
struct action<split_clause> : clause_action<split_keyword> {};
template <>
struct action<peers_clause> : clause_action<peers_keyword> {};

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
            b.clause(in, "protocol");
        } else {
            b.clause(in, "ports");
        }
    }
};

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
