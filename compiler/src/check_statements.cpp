// Statements: each checked counter, classify and verdict rule joins ir::Policy.
#include "check_hosts.hpp"
#include "check_opener.hpp"
#include "checker.hpp"
#include "families.hpp"

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>

namespace acctc {
namespace {

// Which branches repeat the label of an earlier one. The labels' hashes sorted with their
// branches: a hash set of 100,000 labels spent most of its time on cache misses, and sorting
// the labels themselves on comparing their shared prefixes. Equal hashes are compared as text.
std::vector<bool> repeated_labels(const std::vector<ast::Branch>& branches) {
    std::vector<std::pair<std::size_t, std::size_t>> hashes; // hash, branch
    hashes.reserve(branches.size());
    for (std::size_t b = 0; b < branches.size(); ++b) {
        hashes.emplace_back(std::hash<std::string_view>{}(branches[b].label.text), b);
    }
    std::sort(hashes.begin(), hashes.end());
    std::vector<bool> repeated(branches.size());
    for (std::size_t run = 0; run < hashes.size();) {
        std::size_t end = run + 1;
        while (end < hashes.size() && hashes[end].first == hashes[run].first) {
            ++end;
        }
        // Within a run the branches are in order: each is compared with the earlier ones until
        // one has its text (a run of one label repeated stops at the first compare).
        for (std::size_t i = run + 1; i < end; ++i) {
            const std::string& label = branches[hashes[i].second].label.text;
            for (std::size_t j = run; j < i; ++j) {
                if (branches[hashes[j].second].label.text == label) {
                    repeated[hashes[i].second] = true;
                    break;
                }
            }
        }
        run = end;
    }
    return repeated;
}

} // namespace

// Declarations and statements in source order (aliases before their use).
void Checker::check_statements(const ast::Policy& policy) {
    // Room for every kernel name the classes produce (two each with split direction), so the
    // table of 100,000 names is not rehashed a dozen times as it grows.
    std::size_t names = 0;
    for (const auto& statement : policy.statements) {
        if (const auto* classify = std::get_if<ast::ClassifyDecl>(&statement)) {
            names += 2 * classify->branches.size();
        }
    }
    produced_.reserve(names);
    for (const auto& statement : policy.statements) {
        if (diag_.too_many()) {
            break;
        }
        std::visit([this](const auto& decl) { check_statement(decl); }, statement);
    }
}

void Checker::check_statement(const ast::PolicyDecl& decl) {
    declare_policy(decl);
}

void Checker::check_statement(const ast::AliasDecl& decl) {
    declare_alias(decl);
}

void Checker::check_statement(const ast::ConnmarkDecl& decl) {
    declare_connmark(decl);
}

// Quotas wait for the quotas pass: they may name counters declared after them.
void Checker::check_statement(const ast::QuotaDecl&) {}

void Checker::check_statement(const ast::CounterDecl& decl) {
    if (check_name(decl.name, "counter")) {
        check_counter(decl, !declare_statement_name(decl.name));
    }
}

void Checker::check_statement(const ast::ClassifyDecl& decl) {
    if (check_name(decl.name, "classify") && declare_statement_name(decl.name)) {
        check_classify(decl);
    }
}

void Checker::check_counter(const ast::CounterDecl& decl, bool duplicate) {
    ir::Counter counter;
    counter.name = decl.name.text;
    counter.origin = file_.origin(decl.range.begin);
    counter.range = decl.name.range;
    const std::size_t errors_before = diag_.error_count();
    CounterExtras extras;
    ClauseSites sites;
    counter.match = read_match(decl.clauses, Context::counter, &extras, sites, decl.name.text);
    apply_defaults(counter.match, extras, sites, decl.name.range, Context::counter);
    counter.follow = extras.follow || !extras.listen.empty();
    warn_outgoing_only(counter.match, counter.follow, sites, Context::counter, errors_before);
    counter.listen = std::move(extras.listen);
    counter.splits = std::move(extras.splits);
    counter.host = std::move(extras.host);
    counter.verdict = extras.verdict;
    if (extras.peers_timeout) {
        counter.peers_timeout_seconds = *extras.peers_timeout;
    }
    for (std::size_t i = 0; i < counter.splits.size(); ++i) {
        auto& split = counter.splits[i];
        if (split.kind == ir::Split::type) {
            if (!counter.match.icmp || counter.match.icmp->types.empty()) {
                diag_.error(extras.split_ranges[i], "split type needs an icmp or icmpv6 clause "
                                                    "listing the types to split");
                continue;
            }
            for (const auto& part : counter.match.icmp->types.parts()) {
                for (u128 t = part.lo; t <= part.hi; ++t) {
                    split.values.push_back(static_cast<std::uint8_t>(t));
                }
            }
        }
        if (split.kind == ir::Split::direction &&
            counter.match.directions != (ir::dir_in | ir::dir_out)) {
            diag_.warning(extras.split_ranges[i], "split direction on traffic of one direction "
                                                  "produces a single counter");
        }
    }
    for (std::size_t i = 0; i < counter.splits.size(); ++i) {
        if (counter.splits[i].kind == ir::Split::host && counter.host) {
            check_host_split(counter, extras.split_ranges[i], diag_);
        }
        if (counter.splits[i].kind == ir::Split::opener) {
            check_opener_split(counter, extras.split_ranges[i], diag_);
        }
    }
    if (counter.splits_by(ir::Split::protocol) && counter.splits_by(ir::Split::type)) {
        diag_.error(decl.name.range, "split protocol and split type cannot be combined; ICMP types "
                                     "already imply the protocol");
    }
    if (counter.follow) {
        out_.uses_conntrack = true;
        const unsigned available = static_cast<unsigned>(__builtin_popcount(out_.connmark_mask));
        const unsigned used = following_counters_++;
        if (used >= available) {
            diag_.error(extras.follow_range.end > 0 ? extras.follow_range : decl.name.range,
                        "more counters follow connections than the connmark mask has bits (" +
                            std::to_string(available) + "); widen it with 'connmark mask'");
        } else {
            // The (used+1)-th lowest set bit of the mask.
            std::uint32_t mask = out_.connmark_mask;
            for (unsigned i = 0; i < used; ++i) {
                mask &= mask - 1;
            }
            counter.mark_bit = mask & (~mask + 1);
        }
    }
    if (counter.match.new_connection) {
        out_.uses_conntrack = true;
    }
    if (duplicate) {
        return; // reported already; its clauses were still checked above
    }
    for (const auto& name : all_counter_names(counter)) {
        produce(name, decl.name.range);
    }
    if (counter.verdict != ir::Verdict::none) {
        out_.verdicts.push_back(
            {counter.verdict, counter.origin, out_.counters.size(), {}, counter.range});
    }
    out_.order.push_back({false, out_.counters.size()});
    out_.counters.push_back(std::move(counter));
}

void Checker::check_classify(const ast::ClassifyDecl& decl) {
    ir::Classify classify;
    classify.name = decl.name.text;
    classify.origin = file_.origin(decl.range.begin);
    classify.range = decl.name.range;
    const std::size_t errors_before = diag_.error_count();
    CounterExtras extras;
    ClauseSites sites;
    classify.scope = read_match(decl.header, Context::classify_header, &extras, sites, "");
    classify.split_direction = sites.split_direction.has_value();
    apply_defaults(classify.scope, extras, sites, decl.name.range, Context::classify_header);
    warn_outgoing_only(classify.scope, false, sites, Context::classify_header, errors_before);
    const std::vector<bool> repeated = repeated_labels(decl.branches);
    classify.classes.reserve(decl.branches.size());
    for (std::size_t b = 0; b < decl.branches.size(); ++b) {
        const ast::Branch& branch = decl.branches[b];
        if (diag_.too_many()) {
            break; // a generated policy of 100,000 bad classes: the first errors say it
        }
        if (!check_name(branch.label, "class")) {
            continue;
        }
        if (repeated[b]) {
            diag_.error(branch.label.range, "class '" + branch.label.text + "' appears twice");
            continue;
        }
        ir::Class cls;
        cls.label = branch.label.text;
        cls.counter = classify.name + "_" + branch.label.text;
        cls.origin = file_.origin(branch.range.begin);
        cls.range = branch.label.range;
        ClauseSites branch_sites;
        cls.match = read_match(branch.clauses, Context::class_branch, nullptr, branch_sites, "");
        check_families(cls.match, branch_sites, branch.label.range);
        if (cls.match.has_owner() &&
            (classify.scope.scopes & ~ir::scope_local || classify.scope.directions & ir::dir_in)) {
            diag_.error(*branch_sites.owner, "owner matches only outgoing local packets; give the "
                                             "classify header 'local out'");
        }
        if (branch.otherwise) {
            if (classify.otherwise) {
                diag_.error(branch.label.range, "only one otherwise per classify");
            }
            if (&branch != &decl.branches.back()) {
                diag_.warning(branch.label.range, "otherwise takes what no class matched; the "
                                                  "classes after it are still tried first");
            }
            classify.otherwise = std::move(cls);
        } else {
            classify.classes.push_back(std::move(cls));
        }
    }
    if (classify.classes.empty()) {
        diag_.error(decl.name.range, "classify '" + classify.name +
                                         "' has no classes; give at least one 'label: clauses'");
    }
    auto produce_class = [&](const ir::Class& cls) {
        if (classify.split_direction) {
            produce(cls.counter + "_in", cls.range);
            produce(cls.counter + "_out", cls.range);
        } else {
            produce(cls.counter, cls.range);
        }
    };
    for (const auto& cls : classify.classes) {
        produce_class(cls);
    }
    if (classify.otherwise) {
        produce_class(*classify.otherwise);
    }
    out_.order.push_back({true, out_.classifies.size()});
    out_.classifies.push_back(std::move(classify));
}

void Checker::check_statement(const ast::VerdictDecl& decl) {
    ir::VerdictRule rule;
    rule.verdict = decl.action.text == "accept" ? ir::Verdict::accept : ir::Verdict::drop;
    rule.origin = file_.origin(decl.range.begin);
    rule.range = decl.range;
    ClauseSites sites;
    CounterExtras extras;
    rule.match = read_match(decl.clauses, Context::verdict, nullptr, sites, "");
    apply_defaults(rule.match, extras, sites, decl.action.range, Context::verdict);
    if (rule.match.new_connection) {
        out_.uses_conntrack = true;
    }
    out_.verdicts.push_back(std::move(rule));
}

} // namespace acctc
