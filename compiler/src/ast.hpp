// Syntax tree of a policy: close to the text, every node with its source range. The parser
// builds it; the checker gives it meaning.
#pragma once

#include "acctc/source.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace acctc::ast {

struct Token {
    std::string text;
    SourceRange range;
};

// One element of a clause's argument list.
struct Item {
    enum class Kind { word, number, range, address, string, peers, duration };
    Kind kind = Kind::word;
    std::string text;     // word, number, address, string, duration, range lower bound, peers name
    std::string upper;    // range upper bound; empty for an open range "1024.."
    std::string protocol; // listen items: "tcp" in "tcp 21212"
    SourceRange range;
};

// Clauses: one type per clause kind, each with its source range and the range of its first
// word (for "not allowed here" diagnostics). `Clause` is the variant of them all; the checker
// visits it with one case per type and no default, so a kind added here without its checker
// case fails to compile (check_clauses.cpp).
// The end of a packet a port or address clause looks at.
enum class Side { source, destination, either };

struct ClauseSite {
    SourceRange range;
    SourceRange keyword_range;
};

// `local`, `forward`, `passive`
struct ScopeClause : ClauseSite {
    enum class Kind { local, forward, passive };
    Kind kind = Kind::local;
};
// `in`, `out`
struct DirectionClause : ClauseSite {
    enum class Kind { in, out };
    Kind kind = Kind::in;
};
// `via wan, "eth1"`: interface aliases
struct ViaClause : ClauseSite {
    std::vector<Item> items;
};
// `include loopback`
struct IncludeClause : ClauseSite {};
// `owner user alice, 1000`, `owner group skype`, `owner cgroup "system.slice/x.service"`
struct OwnerClause : ClauseSite {
    enum class Kind { user, group, cgroup };
    Kind kind = Kind::user;
    std::vector<Item> items; // cgroup: one string
};
// `protocol tcp, 47`, and a bare `tcp, udp`
struct ProtocolClause : ClauseSite {
    std::vector<Item> items;
};
// `tcp, udp dport 53, 80`
struct PortClause : ClauseSite {
    std::vector<Token> protocols;
    Side side = Side::either; // sport, dport, port
    std::vector<Item> items;
};
// `icmp`, `icmpv6 type echo-request, 128`
struct IcmpClause : ClauseSite {
    bool v6 = false;
    std::vector<Item> items;
};
// `from ...`, `to ...`, `address ...`: literals, network aliases, `peers of COUNTER`
struct AddressClause : ClauseSite {
    Side side = Side::either; // from, to, address
    std::vector<Item> items;
};
// `fragment`
struct FragmentClause : ClauseSite {};
// `new`
struct NewClause : ClauseSite {};
// `length 0..576, 1500`
struct LengthClause : ClauseSite {
    std::vector<Item> items;
};
// `listen tcp 21212, udp 21212`: Item::protocol holds the protocol
struct ListenClause : ClauseSite {
    std::vector<Item> items;
};
// `follow connection`
struct FollowClause : ClauseSite {};
// `split protocol tcp, udp`
struct SplitProtocolClause : ClauseSite {
    std::vector<Item> items;
};
// `split direction`
struct SplitDirectionClause : ClauseSite {};
// `split type`
struct SplitTypeClause : ClauseSite {};
// `split host SIDE [/N [/M]] [within NETWORKS] [size N]`: Item::protocol tells the items apart
// ("" the side, "/" a prefix length, "within" a network, "size" the set size).
struct SplitHostClause : ClauseSite {
    std::vector<Item> items;
};
// `peers timeout 1h`
struct PeersClause : ClauseSite {
    Item timeout;
};
// `accept`, `drop` inside a counter
struct VerdictClause : ClauseSite {
    enum class Kind { accept, drop };
    Kind kind = Kind::accept;
};

using Clause = std::variant<ScopeClause, DirectionClause, ViaClause, IncludeClause, OwnerClause,
                            ProtocolClause, PortClause, IcmpClause, AddressClause, FragmentClause,
                            NewClause, LengthClause, ListenClause, FollowClause,
                            SplitProtocolClause, SplitDirectionClause, SplitTypeClause,
                            SplitHostClause, PeersClause, VerdictClause>;

struct PolicyDecl {
    Token name;
    SourceRange range;
};

struct AliasDecl {
    enum class Kind { interface, network };
    Kind kind = Kind::interface;
    Token name;
    std::vector<Item> values;
    SourceRange range;
};

struct ConnmarkDecl {
    Item mask;
    SourceRange range;
};

struct CounterDecl {
    Token name;
    std::vector<Clause> clauses;
    SourceRange range;
};

struct Branch {
    Token label;
    bool otherwise = false;
    std::vector<Clause> clauses;
    SourceRange range;
};

struct ClassifyDecl {
    Token name;
    std::vector<Clause> header;
    std::vector<Branch> branches;
    SourceRange body_range;
    SourceRange range;
};

// Top-level `accept ...` / `drop ...`.
struct VerdictDecl {
    Token action;
    std::vector<Clause> clauses;
    SourceRange range;
};

using Statement =
    std::variant<PolicyDecl, AliasDecl, ConnmarkDecl, CounterDecl, ClassifyDecl, VerdictDecl>;

struct Policy {
    std::vector<Statement> statements; // in source order
};

} // namespace acctc::ast
