#include "check_iptables.hpp"

#include "families.hpp"
#include "iptables_names.hpp"

#include <map>

namespace acctc {
namespace {

// Top-level verdicts keep only their "file:line"; the whole line is the construct.
SourceRange line_range(const SourceFile& source, const std::string& origin) {
    const auto colon = origin.rfind(':');
    const std::size_t line = std::stoul(origin.substr(colon + 1));
    const std::string_view text = source.line_text(line);
    const auto begin = static_cast<std::size_t>(text.data() - source.text().data());
    return {begin, begin + text.size()};
}

class IptablesCheck {
  public:
    IptablesCheck(const SourceFile& source, const ir::Policy& policy, Diagnostics& diagnostics)
        : source_(source), policy_(policy), diag_(diagnostics) {}

    void run() {
        for (const auto& counter : policy_.counters) {
            match(counter.match, counter.range, "counter '" + counter.name + "'");
            fragments(counter);
            for (const auto& name : all_counter_names(counter)) {
                chain(name, counter.range);
            }
        }
        for (const auto& classify : policy_.classifies) {
            match(classify.scope, classify.range, "classify '" + classify.name + "'");
            auto names = [&](const ir::Class& cls) {
                match(cls.match, cls.range, "class '" + cls.label + "'");
                if (classify.split_direction) {
                    chain(cls.counter + "_in", cls.range);
                    chain(cls.counter + "_out", cls.range);
                } else {
                    chain(cls.counter, cls.range);
                }
            };
            for (const auto& cls : classify.classes) {
                names(cls);
            }
            if (classify.otherwise) {
                names(*classify.otherwise);
            }
        }
        for (const auto& quota : policy_.quotas) {
            // Quotas are nfacct objects (docs/iptables.md, "Quotas"): one per quota. A host's
            // budget would be one per host, each created before a rule could name it, where
            // the packet path adds hosts to an ipset, whose elements carry no quota.
            if (quota.per_host) {
                diag_.error(quota.range,
                            "quota '" + quota.name +
                                "' gives each host its own budget, which iptables cannot hold "
                                "(ipset elements have counters but no quota, and an nfacct "
                                "object per host would need a rule per host); compile with "
                                "--target nft");
            }
        }
        for (const auto& verdict : policy_.verdicts) {
            if (verdict.counter == static_cast<std::size_t>(-1)) {
                match(verdict.match, line_range(source_, verdict.origin), "this verdict");
            }
        }
    }

  private:
    const SourceFile& source_;
    const ir::Policy& policy_;
    Diagnostics& diag_;
    std::map<std::string, std::pair<std::string, SourceRange>> chains_;

    void match(const ir::Match& m, SourceRange range, const std::string& what) {
        if (m.scopes & ir::scope_passive) {
            diag_.error(range, what + " uses passive collection, which iptables cannot express (it "
                                      "has no ingress hook); compile with --target nft");
        }
        for (const auto& name : m.via) {
            if (name.back() == '+') {
                diag_.error(range, what + " names interface '" + name +
                                       "', which iptables would read as the wildcard '" +
                                       name.substr(0, name.size() - 1) +
                                       "*'; compile with --target nft");
            }
        }
    }

    // nft counts arriving fragments before any reassembly (a prerouting chain at -450); the
    // chains acctc hooks in iptables come after the kernel's: IPv4 datagrams for this host are
    // reassembled before INPUT, and conntrack's defragmentation (-400) before every table.
    void fragments(const ir::Counter& counter) {
        const ir::Match& m = counter.match;
        if (!m.fragment || counter.follow) {
            return;
        }
        const bool local_in = (m.scopes & ir::scope_local) && (m.directions & ir::dir_in);
        const bool forward_in = (m.scopes & ir::scope_forward) && (m.directions & ir::dir_in);
        // Only leaving: a counter of both directions counts forwarded fragments as they
        // arrived, which is what the wire on that side carried.
        const bool leaving = (m.directions & ir::dir_out) && !(m.directions & ir::dir_in);
        // The kernel fragments after POSTROUTING, iptables' last chain: the fragments this
        // host makes, of its own datagrams or of forwarded ones, reach no chain.
        if (leaving) {
            diag_.error(counter.range,
                        "counter '" + counter.name +
                            "' counts leaving fragments, which this host makes after "
                            "iptables' last chain (POSTROUTING), so iptables never sees them; "
                            "compile with --target nft and name the devices with via, which "
                            "counts them at their egress hook");
        }
        if (local_in) {
            diag_.error(counter.range,
                        "counter '" + counter.name +
                            "' counts arriving fragments, which iptables sees only after the "
                            "kernel reassembled IPv4 datagrams for this host (before INPUT); "
                            "compile with --target nft, which counts them before reassembly");
        } else if (forward_in && policy_.uses_conntrack) {
            diag_.error(counter.range,
                        "counter '" + counter.name +
                            "' counts forwarded fragments, which conntrack (used by follow, "
                            "listen or new in this policy) reassembles before any iptables "
                            "chain; compile with --target nft, which counts them before");
        }
    }

    void chain(const std::string& counter, SourceRange range) {
        const std::string name = iptables::counter_chain(policy_.name, counter);
        auto [it, inserted] = chains_.emplace(name, std::pair{counter, range});
        if (!inserted && it->second.first != counter) {
            auto& error = diag_.error(range, "counters '" + it->second.first + "' and '" + counter +
                                                 "' shorten to the same iptables chain name " +
                                                 name + "; rename one of them");
            error.notes.push_back({it->second.second, "'" + it->second.first + "' is here"});
        }
    }
};

} // namespace

void check_iptables(const SourceFile& source, const ir::Policy& policy, Diagnostics& diagnostics) {
    IptablesCheck(source, policy, diagnostics).run();
}

} // namespace acctc
