// The checker's parts (check_*.cpp, one stage each) share this class; check.cpp runs its
// passes in order. Internal to the checker: the rest of the compiler includes check.hpp.
#pragma once

#include "check.hpp"
#include "name_table.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace acctc {

using ast::Item;

struct NetworkAlias {
    IntervalSet v4;
    IntervalSet v6;
};

// The addresses of one list, collected and then merged once: a list of n addresses costs
// O(n log n), not n insertions into a sorted set.
struct AddressList {
    std::vector<Interval> v4;
    std::vector<Interval> v6;

    void add(const NetworkAlias& alias) {
        v4.insert(v4.end(), alias.v4.parts().begin(), alias.v4.parts().end());
        v6.insert(v6.end(), alias.v6.parts().begin(), alias.v6.parts().end());
    }
    NetworkAlias merged() && {
        return {IntervalSet::of(std::move(v4)), IntervalSet::of(std::move(v6))};
    }
};

enum class Context { counter, classify_header, class_branch, verdict };

// What a clause list says beyond the packet match (counters only).
struct CounterExtras {
    bool follow = false;
    std::vector<ir::ListenPort> listen;
    std::vector<ir::SplitSpec> splits;
    std::vector<SourceRange> split_ranges;
    std::optional<ir::HostSplit> host;
    ir::Verdict verdict = ir::Verdict::none;
    std::optional<std::uint64_t> peers_timeout;
    SourceRange follow_range;
};

// Where each clause kind was written, for diagnostics that name two places.
struct ClauseSites {
    std::optional<SourceRange> scope, direction, owner, via, fragment, ports, icmp, split_direction;
    std::optional<SourceRange> split_type, passive, forward, in, out, listen, follow, peers_ref;
    std::optional<SourceRange> split_opener, length;
};

class Checker {
  public:
    Checker(const SourceFile& file, const HostDatabase& hosts, Diagnostics& diagnostics)
        : file_(file), hosts_(hosts), diag_(diagnostics) {}

    // Runs the passes (listed in check.cpp, in order) over the policy.
    ir::Policy run(const ast::Policy& policy);

  private:
    // Passes (check.cpp): each reads the whole policy.
    void require_policy_header(const ast::Policy& policy);
    // Counter names first, so 'peers of' may name a counter declared further down.
    void index_counter_names(const ast::Policy& policy);
    // Declarations and statements in source order (aliases before their use):
    // check_statements.cpp.
    void check_statements(const ast::Policy& policy);
    // Quotas, once every counter is known (check_quotas.cpp).
    void check_quota_statements(const ast::Policy& policy);
    // Counters referenced by 'peers of' keep dynamic peer sets.
    void mark_peer_references(const ast::Policy& policy);
    void warn_wire(const ast::Policy& policy);

    // Statements (check_statements.cpp): one overload per ast::Statement alternative and no
    // generic one, so a statement kind without its checker fails to compile.
    void check_statement(const ast::PolicyDecl& decl);
    void check_statement(const ast::AliasDecl& decl);
    void check_statement(const ast::ConnmarkDecl& decl);
    void check_statement(const ast::CounterDecl& decl);
    void check_statement(const ast::ClassifyDecl& decl);
    void check_statement(const ast::VerdictDecl& decl);
    void check_statement(const ast::QuotaDecl& decl);
    void check_counter(const ast::CounterDecl& decl, bool duplicate);
    void check_classify(const ast::ClassifyDecl& decl);

    // Names (check_declarations.cpp).
    bool check_name(const ast::Token& name, const char* what, std::size_t limit = max_name_length);
    void produce(const std::string& name, SourceRange range);
    // False (and reported) when a counter or classify of that name exists already.
    bool declare_statement_name(const ast::Token& name);
    void declare_policy(const ast::PolicyDecl& decl);
    void declare_alias(const ast::AliasDecl& decl);
    void declare_connmark(const ast::ConnmarkDecl& decl);

    // Clause lists into a match (check_clauses.cpp): one case per ast::Clause alternative.
    struct ClauseReader;
    ir::Match read_match(const std::vector<ast::Clause>& clauses, Context context,
                         CounterExtras* extras, ClauseSites& sites, const std::string& self);

    // Defaults and the combinations the kernel cannot honour (check_defaults.cpp).
    void apply_defaults(ir::Match& match, const CounterExtras& extras, const ClauseSites& sites,
                        SourceRange where, Context context);
    // Errors when no address family is left that the match's clauses all allow.
    void check_families(const ir::Match& match, const ClauseSites& sites, SourceRange where);
    void warn_outgoing_only(const ir::Match& match, bool follow, const ClauseSites& sites,
                            Context context, std::size_t errors_before);

    // Values (check_values.cpp): each reports what it rejects.
    std::optional<std::uint64_t> number(const Item& item, std::uint64_t max, const char* what);
    std::optional<std::uint16_t> port(const std::string& text, SourceRange range,
                                      const std::vector<std::uint8_t>& protocols);
    std::optional<IntervalSet> port_items(const std::vector<Item>& items,
                                          const std::vector<std::uint8_t>& protocols);
    std::optional<std::uint8_t> protocol(const Item& item);
    bool address_literal(const Item& item, AddressList& into);
    std::optional<std::uint64_t> duration(const Item& item);
    bool add_network(const Item& item, AddressList& into);
    bool network_item(const Item& item, IntervalSet& v4, IntervalSet& v6);
    std::optional<std::string> device(const Item& item);
    std::optional<std::string> cgroup_path(const Item& item);

    const SourceFile& file_;
    const HostDatabase& hosts_;
    Diagnostics& diag_;
    ir::Policy out_;
    std::map<std::string, std::vector<std::string>, std::less<>> interfaces_;
    std::map<std::string, NetworkAlias, std::less<>> networks_;
    std::map<std::string, SourceRange, std::less<>> alias_sites_;
    std::map<std::string, std::size_t, std::less<>> counter_index_;
    // One entry per kernel counter (100,000 for as many classes), only inserted.
    NameTable produced_;
    std::map<std::string, SourceRange, std::less<>> statement_names_;
    unsigned following_counters_ = 0;
};

} // namespace acctc
