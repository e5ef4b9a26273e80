// The pipeline, in one place: parse -> check -> lower -> emit. It stops after the first stage
// that reports an error, so later stages only ever see well-formed input.
#include "acctc/compile.hpp"

#include "acctc/left_to_exit.hpp"
#include "acctc/version.hpp"
#include "bpf_classes.hpp"
#include "bpf_hosts.hpp"
#include "bpf_wire.hpp"
#include "check.hpp"
#include "check_iptables.hpp"
#include "device_uses.hpp"
#include "dump.hpp"
#include "element_counters.hpp"
#include "emit_iptables.hpp"
#include "emit_nft.hpp"
#include "host_database.hpp"
#include "iptables_names.hpp"
#include "lower.hpp"
#include "parser.hpp"
#include "wire_warnings.hpp"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace acctc {
namespace {

// The pieces in one allocation: the iptables texts of 100,000 addresses are ~90 MB each, and
// `a + b + c` makes a copy per `+`.
std::string joined(std::initializer_list<std::string_view> pieces) {
    std::size_t size = 0;
    for (const auto piece : pieces) {
        size += piece.size();
    }
    std::string out;
    out.reserve(size);
    for (const auto piece : pieces) {
        out += piece;
    }
    return out;
}

} // namespace

CompileResult compile_source(std::string display_name, std::string text,
                             const CompileOptions& options) {
    CompileResult result{SourceFile(std::move(display_name), std::move(text)), {}, {}};
    Diagnostics& diagnostics = result.diagnostics;
    ast::Policy tree = parse_policy(result.source, diagnostics);
    if (diagnostics.has_errors()) {
        return result;
    }
    const HostDatabase hosts(options.etc_dir);
    ir::Policy checked = check_policy(result.source, tree, hosts, diagnostics);
    // Nothing reads the tree after the check: its memory (tens of MB for 100,000 classes) goes
    // back to the allocator for the lowering, which would otherwise fault in fresh pages.
    std::vector<ast::Statement>().swap(tree.statements);
    if (diagnostics.has_errors()) {
        return result;
    }
    const bool egress = options.target != Target::iptables;
    // Per-host counters counted in BPF leave the policy the backends see (bpf_hosts.hpp).
    std::vector<BpfHostCounterPlan> bpf_hosts;
    std::vector<std::string> bpf_hosts_unavailable;
    if (options.bpf_hosts) {
        bpf_hosts = plan_bpf_hosts(checked, options.nft_hosts);
    }
    if (!egress) { // iptables has no BPF host counting: its per-host counters are ipsets
        for (const auto& plan : bpf_hosts) {
            if (std::find(bpf_hosts_unavailable.begin(), bpf_hosts_unavailable.end(),
                          plan.declared) == bpf_hosts_unavailable.end()) {
                bpf_hosts_unavailable.push_back(plan.declared);
            }
        }
        bpf_hosts.clear();
    }
    // So do classifications (bpf_classes.hpp).
    std::vector<BpfClassifyPlan> bpf_classes;
    std::vector<std::string> bpf_classes_unavailable;
    if (options.bpf_classes) {
        bpf_classes = plan_bpf_classes(checked, options.nft_classes);
    }
    if (!egress) { // nor BPF classification: iptables counts them in its rules
        for (const auto& plan : bpf_classes) {
            bpf_classes_unavailable.push_back(plan.classify);
        }
        bpf_classes.clear();
    }
    std::optional<ir::Policy> stripped;
    if (!bpf_hosts.empty()) {
        stripped = without_bpf_hosts(checked, bpf_hosts);
    }
    if (!bpf_classes.empty()) {
        stripped = without_bpf_classes(stripped ? *stripped : checked, bpf_classes);
        // What the lowering would have warned about, from the partition: a class that earlier
        // ones take every port of, or every prefix of.
        for (const auto& plan : bpf_classes) {
            const auto& classify =
                *std::find_if(checked.classifies.begin(), checked.classifies.end(),
                              [&](const ir::Classify& c) { return c.name == plan.classify; });
            for (std::size_t i = 0; i < classify.classes.size(); ++i) {
                if (plan.classes[i].ports.empty() && plan.classes[i].prefixes.empty()) {
                    warn_never_matches(classify, classify.classes[i], diagnostics);
                }
            }
        }
    }
    const ir::Policy& policy = stripped ? *stripped : checked;
    // The backend's own errors and warnings come after the wire warnings, which need the
    // lowered table (which counters the BPF program corrects) on the way that does not fail.
    Diagnostics iptables_diagnostics;
    if (options.target == Target::iptables) {
        check_iptables(result.source, policy, iptables_diagnostics);
        if (iptables_diagnostics.has_errors()) {
            warn_wire_differences(policy, egress, {}, diagnostics);
            diagnostics.append(iptables_diagnostics);
            return result;
        }
    }
    rules::Table table = lower_policy(policy, diagnostics,
                                      {.fragments_before_defrag = egress,
                                       .host_parts = egress && options.host_parts,
                                       .egress = egress,
                                       .quota_warn_objects = options.target != Target::iptables});

    CompiledPolicy out;
    if (options.dump == Dump::check) {
        out.dump = dump_checked(policy);
    } else if (options.dump == Dump::lower) {
        out.dump = dump_lowered(table);
    }
    if (options.target == Target::nft) {
        use_element_counters(table, options.element_one_set_keys);
    }
    // Merged packets corrected in BPF (bpf_wire.hpp), on every backend: those counters are not
    // warned. An iptables quota's nfacct object cannot be lowered: its counters stay as they are.
    WirePlanning wire = plan_bpf_wire(policy, table, options.target == Target::nft);
    warn_wire_differences(policy, egress, wire.corrected, diagnostics);
    diagnostics.append(iptables_diagnostics);
    out.bpf_wire = std::move(wire.plan);
    out.policy_name = policy.name;
    out.bpf_hosts = std::move(bpf_hosts);
    out.bpf_hosts_unavailable = std::move(bpf_hosts_unavailable);
    out.bpf_classes = std::move(bpf_classes);
    out.bpf_classes_unavailable = std::move(bpf_classes_unavailable);
    out.table_name = table.name;
    for (const auto& chain : table.chains) {
        if (chain.hook != rules::Hook::egress) {
            out.chains.push_back(chain.name);
        }
    }
    for (const auto& set : table.sets) {
        out.sets.push_back(set.name);
    }
    out.devices = device_uses(checked); // BPF counters' devices too
    for (const auto& quota : policy.quotas) {
        CompiledQuota compiled{quota.name, quota.counters, quota.period, quota.start_day,
                               {},         quota.per_host, {},           quota.limit};
        for (const auto& object : table.quotas) {
            if (object.identity.quota == quota.name) {
                // iptables: the quota's nfacct object (docs/iptables.md, "Quotas").
                compiled.objects.push_back(
                    {options.target == Target::iptables
                         ? iptables::quota_object(policy.name, object.bytes, object.identity)
                         : object.name,
                     object.bytes});
            }
        }
        for (const auto& set : table.sets) {
            if (set.quota && set.quota->identity.quota == quota.name) {
                compiled.sets.push_back(set.name);
            }
        }
        out.quotas.push_back(std::move(compiled));
    }
    NftText nft = emit_nft(table);
    out.preamble = std::move(nft.preamble);
    out.definition = std::move(nft.definition);
    // The one line of generated text that holds the file name: escaped, so no byte of it can
    // end the comment.
    const std::string origin =
        "# Generated by acctc " + std::string(version) + " from " + result.source.printable_name();
    out.text = joined({origin, "; load with: nft -f FILE\n", out.preamble, out.definition});
    for (const auto& device_table : nft.egress) {
        out.egress.push_back({device_table.device, device_table.name, device_table.preamble,
                              device_table.definition});
        out.text += device_table.preamble + device_table.definition;
    }
    if (options.target == Target::iptables) {
        IptablesText ipt = emit_iptables(table);
        IptablesPolicy p;
        p.ipset = ipt.ipset.empty() ? std::string() : joined({origin, "\n", ipt.ipset});
        p.v4 = joined({origin, "; load with: iptables-restore --noflush FILE\n", ipt.v4});
        std::string().swap(ipt.v4);
        p.v6 = joined({origin, "; load with: ip6tables-restore --noflush FILE\n", ipt.v6});
        std::string().swap(ipt.v6);
        p.prefix = iptables::owned_prefix(policy.name);
        p.counter_chains = ipt.counter_chains;
        p.sets = ipt.sets;
        out.text = joined(
            {origin, " for iptables; load with: acctc apply --backend iptables POLICY\n",
             p.ipset.empty() ? "" : "### ipset -exist restore\n", p.ipset,
             "### iptables-restore --noflush\n", p.v4, "### ip6tables-restore --noflush\n", p.v6});
        out.iptables = std::move(p);
    }
    // Last, once the emitters are done with the table: its names, origins and comments move.
    for (auto& set : table.counting_sets) {
        CompiledPolicy::ElementSet compiled{std::move(set.name), {}, {}};
        for (const auto field : set.key) {
            compiled.types.push_back(counting_set_type(field));
        }
        compiled.elements.reserve(set.elements.size());
        for (std::size_t e = 0; e < set.elements.size(); ++e) {
            compiled.elements.push_back({std::move(set.hashed[e]),
                                         std::move(set.elements[e].counter),
                                         std::move(set.comments[e])});
        }
        out.element_sets.push_back(std::move(compiled));
    }
    const auto element_counters = static_cast<std::size_t>(
        std::count_if(table.counters.begin(), table.counters.end(),
                      [](const rules::CounterObject& counter) { return counter.element; }));
    out.counters.reserve(table.counters.size() - element_counters);
    out.element_counters.reserve(element_counters);
    for (auto& counter : table.counters) {
        auto& into = counter.element ? out.element_counters : out.counters;
        into.push_back({std::move(counter.name), std::move(counter.identity.origin)});
    }
    result.output = std::move(out);
    if (options.leave_stages_to_exit) {
        left_to_exit(std::move(table));
        left_to_exit(std::move(checked));
        left_to_exit(std::move(stripped));
    }
    return result;
}

} // namespace acctc
