// Stage 2, check: the passes, in order. Each pass reads the whole policy; the statements pass
// does most of the work (check_statements.cpp and the files it calls).
#include "check_quotas.hpp"
#include "checker.hpp"
#include "dual_stack_warnings.hpp"
#include "wire_warnings.hpp"

#include <set>

namespace acctc {

ir::Policy Checker::run(const ast::Policy& policy) {
    struct Pass {
        const char* name;
        void (Checker::*run)(const ast::Policy&);
    };
    static constexpr Pass passes[] = {
        {"policy header", &Checker::require_policy_header},
        {"counter names", &Checker::index_counter_names},
        {"declarations and statements", &Checker::check_statements},
        {"quotas", &Checker::check_quota_statements},
        {"peer references", &Checker::mark_peer_references},
        {"wire and family warnings", &Checker::warn_wire},
    };
    for (const Pass& pass : passes) {
        (this->*pass.run)(policy);
    }
    return std::move(out_);
}

void Checker::require_policy_header(const ast::Policy& policy) {
    if (policy.statements.empty() ||
        !std::holds_alternative<ast::PolicyDecl>(policy.statements.front())) {
        if (!diag_.has_errors()) {
            diag_.error({0, 0}, "a policy file starts with 'policy NAME'");
        }
        out_.name = "invalid";
    }
}

void Checker::index_counter_names(const ast::Policy& policy) {
    for (const auto& statement : policy.statements) {
        if (const auto* counter = std::get_if<ast::CounterDecl>(&statement)) {
            counter_index_.emplace(counter->name.text, counter_index_.size());
        }
    }
}

// Quotas name counters of any statement, so they are read once all are known
// (check_quotas.cpp).
void Checker::check_quota_statements(const ast::Policy& policy) {
    check_quotas(file_, policy, out_, diag_);
}

void Checker::mark_peer_references(const ast::Policy&) {
    std::set<std::string, std::less<>> referenced;
    auto collect = [&](const ir::Match& match) {
        for (const auto& address : match.addresses) {
            if (!address.peers_of.empty()) {
                referenced.insert(address.peers_of);
            }
        }
    };
    for (const auto& counter : out_.counters) {
        collect(counter.match);
    }
    for (const auto& verdict : out_.verdicts) {
        collect(verdict.match);
    }
    for (const auto& classify : out_.classifies) {
        collect(classify.scope);
        for (const auto& member : classify.classes) {
            collect(member.match);
        }
        if (classify.otherwise) {
            collect(classify.otherwise->match);
        }
    }
    for (auto& counter : out_.counters) {
        counter.peers_referenced = referenced.count(counter.name) != 0;
    }
}

// What the kernel shows a hook differs from the wire (fragments, reassembly) or from one
// family: said once the statements are checked.
void Checker::warn_wire(const ast::Policy&) {
    warn_single_family_pings(out_, diag_); // wire differences depend on the target: compile.cpp
}

ir::Policy check_policy(const SourceFile& file, const ast::Policy& policy,
                        const HostDatabase& hosts, Diagnostics& diagnostics) {
    return Checker(file, hosts, diagnostics).run(policy);
}

} // namespace acctc
