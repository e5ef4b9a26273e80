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

// A clause: a keyword with optional qualifier and arguments, e.g.
//   `tcp, udp dport 53, 80`  keyword="ports" protocols={tcp,udp} qualifier="dport"
//   `owner group skype`      keyword="owner" qualifier="group"
struct Clause {
    std::string keyword;
    std::string qualifier;
    std::vector<Token> protocols;
    std::vector<Item> items;
    SourceRange keyword_range;
    SourceRange range;
};

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

// A byte size as written: "50 GB", "1.5GiB" (the checker reads it exactly).
struct Size {
    std::string number; // digits, optionally with a fraction: "1.5"
    Token unit;         // empty when none was written (an error the checker reports)
    SourceRange range;
};

// `quota NAME { on COUNTERS; SIZE per PERIOD [from day N]; warn at P % | SIZE; drop }`
// (docs/language.md, "Quotas").
struct QuotaDecl {
    Token name;
    std::vector<Token> targets; // `on` names: counter families or their members
    std::optional<Size> limit;
    Token period;                    // hour, day or month
    std::optional<Item> start_day;   // `from day N`
    std::optional<Size> warn_size;   // `warn at 40 GB`
    std::optional<Item> warn_percent; // `warn at 80 %`
    std::optional<SourceRange> drop;  // enforcement
    std::vector<SourceRange> repeated; // items given twice (reported by the checker)
    SourceRange body_range;
    SourceRange range;
};

using Statement = std::variant<PolicyDecl, AliasDecl, ConnmarkDecl, CounterDecl, ClassifyDecl,
                               VerdictDecl, QuotaDecl>;

struct Policy {
    std::vector<Statement> statements; // in source order
};

} // namespace acctc::ast
