#include "acctc/runtime/iptables_backend.hpp"

#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"
#include "bpf_wire.hpp"
#include "ipset_host_counters.hpp"
#include "iptables_exec.hpp"
#include "iptables_nft_reset.hpp"
#include "iptables_nft_tables.hpp"
#include "iptables_origins.hpp"
#include "iptables_quota_load.hpp"
#include "iptables_save.hpp"
#include "mutation_lock.hpp"
#include "packet_path.hpp"
#include "text_lines.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace acctc::runtime {
namespace {

struct Family {
    const char* tool; // "iptables" or "ip6tables"
    const std::string IptablesPolicy::*text;
    const char* nft_family; // the nf_tables family iptables-nft keeps the table in
};

constexpr Family families[] = {{"iptables", &IptablesPolicy::v4, "ip"},
                               {"ip6tables", &IptablesPolicy::v6, "ip6"}};

// The chain a line of compiled restore text declares (":CHAIN POLICY [0:0]") or adds to
// ("-A CHAIN ...", "-I CHAIN N ..."). Any other line is refused: the text is loaded as root, and
// a line acctc did not mean to write (a table switch, "-F", "-P INPUT DROP") must never reach
// the kernel.
std::string chain_of(const std::string& line, std::size_t number) {
    const bool declaration = line.front() == ':';
    const bool rule = line.rfind("-A ", 0) == 0 || line.rfind("-I ", 0) == 0;
    const std::size_t begin = declaration ? 1 : 3;
    const auto end = line.find(' ', begin);
    if ((!declaration && !rule) || end == std::string::npos || end == begin) {
        throw RuntimeError(ErrorKind::rejected,
                           "error: line " + std::to_string(number) +
                               " of the compiled iptables text is neither a chain nor a rule "
                               "acctc writes; refusing to load it");
    }
    return line.substr(begin, end - begin);
}

// The restore text as acctc loads it on top of what is there: counter chains that exist with
// their one rule are left out (so they keep counting, lossless), old jumps are deleted before
// the new ones go first. Chains the policy no longer has stay in that transaction, unreachable,
// and are flushed and deleted by a second one (cleanup): their counts are read in between, when
// no packet can reach them any more, so the final values apply reports are exact (read before
// the commit, what they counted until it was lost).
struct ReloadText {
    std::string text;
    std::string cleanup; // empty: no chain went away
    std::set<std::string> kept_chains;
    std::vector<std::string> obsolete_chains;
};

// A counting rule without the origin its comment ends in ("... @p.acct:3"): the same counter
// declared on another line, or in a file named another way, is the same rule. Re-declaring it
// would zero its count (a comment line added on top of the policy lost every count).
std::string without_origin(const std::string& spec) {
    static const std::regex origin(" @[^\"]*\"");
    return std::regex_replace(spec, origin, "\"");
}

ReloadText reload_text(const std::string& compiled, const IptablesPolicy& policy,
                       const SavedTable& live) {
    ReloadText reload;
    // chain -> the specs its one counting rule may have to be kept: as compiled now, or as an
    // acctc from before the labels wrote it ("acctc:<counter>"; kept with its count, without
    // labels until the policy is removed and applied again).
    std::map<std::string, std::vector<std::string>> counting_rule;
    for (const auto& [counter, chain] : policy.counter_chains) {
        counting_rule[chain].push_back(" -m comment --comment \"acctc:" + counter + "\"");
    }
    for (const auto& line : split_lines(compiled)) {
        const auto space = line.find(' ', 3);
        if (line.rfind("-A ", 0) == 0 && space != std::string::npos) {
            if (auto it = counting_rule.find(line.substr(3, space - 3));
                it != counting_rule.end()) {
                it->second.push_back(without_origin(line.substr(space)));
            }
        }
    }
    std::map<std::string, std::vector<std::string>> live_rules;
    for (const auto& rule : live.rules) {
        live_rules[rule.chain].push_back(rule.spec);
    }
    const auto live_chains = owned_chains(live, policy.prefix);
    for (const auto& chain : live_chains) {
        auto it = counting_rule.find(chain);
        const auto& rules = live_rules[chain];
        if (it != counting_rule.end() && rules.size() == 1 &&
            std::find(it->second.begin(), it->second.end(), without_origin(rules.front())) !=
                it->second.end()) {
            reload.kept_chains.insert(chain);
        }
    }
    std::set<std::string> declared;
    std::string body, jumps;
    const auto lines = split_lines(compiled);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (line.empty() || line.front() == '#' || line == "*filter" || line == "COMMIT") {
            continue;
        }
        const std::string chain = chain_of(line, i + 1);
        if (line.front() == ':') {
            declared.insert(chain);
            if (!reload.kept_chains.count(chain)) {
                body += line + "\n";
            }
            continue;
        }
        if (line.rfind("-I ", 0) == 0) {
            jumps += line + "\n";
            continue;
        }
        if (!reload.kept_chains.count(chain)) {
            body += line + "\n";
        }
    }
    // Rules are added after every declaration: a rule may jump to a chain declared later.
    std::string declarations, rules;
    for (const auto& line : split_lines(body)) {
        (line.front() == ':' ? declarations : rules) += line + "\n";
    }
    std::string deletions;
    for (const auto& jump : owned_jumps(live, policy.prefix)) {
        deletions += "-D " + jump.chain + jump.spec + "\n";
    }
    std::string flushes, removals;
    for (const auto& chain : live_chains) {
        if (!declared.count(chain)) {
            reload.obsolete_chains.push_back(chain);
            flushes += "-F " + chain + "\n";
            removals += "-X " + chain + "\n";
        }
    }
    reload.text = "*filter\n" + declarations + rules + deletions + jumps + "COMMIT\n";
    if (!flushes.empty()) {
        reload.cleanup = "*filter\n" + flushes + removals + "COMMIT\n";
    }
    return reload;
}

// "line 7 failed", "line 7: ..." or "Error occurred at line: 7": the restore text's line, whose
// comment names the policy line.
std::string rejection(const std::string& tool, const std::string& text, const std::string& err) {
    std::smatch m;
    std::string origin;
    std::string note;
    if (std::regex_search(err, m, std::regex("line:? ([0-9]+)"))) {
        const auto lines = split_lines(text);
        const std::size_t n = std::stoul(m[1]);
        if (n >= 1 && n <= lines.size() && lines[n - 1] == "COMMIT") {
            // iptables-legacy hands the whole table to the kernel at COMMIT, and a rule the
            // kernel refuses there (a cgroup path that does not exist) is reported as that line.
            note = " (the kernel refused one of the rules at COMMIT, and " + tool +
                   "-restore does not say which)";
        } else if (n >= 1 && n <= lines.size()) {
            std::smatch c;
            if (std::regex_search(lines[n - 1], c, std::regex("--comment \"([^\"]+:[0-9]+)\""))) {
                origin = c[1];
                // A quota's charge rule: "acctcq:<quota> ... @<origin>".
                if (const auto at = origin.rfind(" @"); at != std::string::npos) {
                    origin = origin.substr(at + 2);
                }
            }
        }
    }
    std::string message = err;
    while (!message.empty() && message.back() == '\n') {
        message.pop_back();
    }
    return (origin.empty() ? std::string() : origin + ": ") + "error: " + tool +
           "-restore rejected the ruleset: " + message + note;
}

class IptablesBackend final : public Backend {
  public:
    IptablesBackend(const std::string& netns, IptablesVariant variant)
        : netns_(netns), scope_(netns), variant_(variant) {}

    ApplyReport apply(const CompiledPolicy& policy, bool dry_run) override;
    std::vector<CounterReading> counters(const std::string& policy, bool reset) override;
    // iptables-restore commits a policy's chains in one step: none is ever left half-way.
    EveryPolicyReadings every_policy(bool reset) override { return {counters({}, reset), {}}; }
    RemoveReport remove(const std::string& policy) override;
    std::string live_ruleset(const std::string& policy) override;
    std::string planned_ruleset(const CompiledPolicy& policy) override;

  private:
    std::string netns_;
    NetnsScope scope_;
    IptablesVariant variant_;

    std::string program(const char* tool, const char* action) const {
        return iptables_program(variant_, tool, action);
    }
    // The other iptables variant ("iptables-legacy" for nft, and back) when it holds chains of
    // `prefix` in this namespace: ipsets and nfacct objects are one per namespace, not per
    // variant, so the two would count hosts and quotas in the same objects and neither's remove
    // could destroy them.
    std::optional<BackendKind> other_variant_holding(const std::string& prefix) {
        const auto other = variant_of(families[0]) == IptablesVariant::nft ? IptablesVariant::legacy
                                                                           : IptablesVariant::nft;
        for (const auto& family : families) {
            const auto result =
                run_process({iptables_program(other, family.tool, "save"), "-t", "filter"});
            if (result.status == 0 && !owned_chains(parse_save(result.out), prefix).empty()) {
                return other == IptablesVariant::legacy ? BackendKind::iptables_legacy
                                                        : BackendKind::iptables_nft;
            }
        }
        return std::nullopt;
    }
    std::string save(const Family& family, bool with_counters) const {
        std::vector<std::string> argv{program(family.tool, "save"), "-t", "filter"};
        if (with_counters) {
            argv.push_back("-c");
        }
        const auto result = run_process(argv);
        if (result.status != 0) {
            throw RuntimeError(ErrorKind::system, argv.front() + " failed: " + result.err);
        }
        return result.out;
    }
    void restore(const Family& family, const std::string& text, bool test) const {
        std::vector<std::string> argv{program(family.tool, "restore"), "--noflush", "-w"};
        if (test) {
            argv.push_back("--test");
        }
        const auto result = run_process(argv, text);
        if (result.status != 0) {
            throw RuntimeError(ErrorKind::rejected, rejection(family.tool, text, result.err));
        }
    }
    static std::string prefix_of(const std::string& policy, const SavedTable& v4,
                                 const SavedTable& v6) {
        for (const auto* table : {&v4, &v6}) {
            const auto applied = applied_policies(*table);
            if (auto it = applied.find(policy); it != applied.end()) {
                return it->second;
            }
        }
        throw RuntimeError(ErrorKind::unknown_table,
                           "policy " + policy + " is not applied here (iptables)");
    }
    // Counting rules of one prefix, v4 and v6 summed per counter, in first-seen order.
    static std::vector<CounterReading> readings(const std::string& policy,
                                                const std::string& prefix,
                                                const std::vector<CountedRule>& rules) {
        std::vector<CounterReading> out;
        for (const auto& rule : rules) {
            if (rule.counter.empty() || rule.chain.rfind(prefix, 0) != 0) {
                continue;
            }
            auto it = std::find_if(out.begin(), out.end(),
                                   [&](const auto& r) { return r.sample.counter == rule.counter; });
            if (it == out.end()) {
                out.push_back(reading_of(policy, rule.counter, 0, 0,
                                         decode_counter_comment(rule.counter, rule.metadata)));
                it = out.end() - 1;
            }
            it->sample.packets += rule.packets;
            it->sample.bytes += rule.bytes;
        }
        return out;
    }
    static std::vector<SavedRule> all_rules(const SavedTable& v4, const SavedTable& v6) {
        std::vector<SavedRule> out = v4.rules;
        out.insert(out.end(), v6.rules.begin(), v6.rules.end());
        return out;
    }
    static std::vector<CountedRule> counted(const SavedTable& v4, const SavedTable& v6) {
        auto out = counted_rules(v4.rules);
        const auto more = counted_rules(v6.rules);
        out.insert(out.end(), more.begin(), more.end());
        return out;
    }
    // Which iptables a family's programs are: asked once of `<tool>-restore -V` when automatic.
    IptablesVariant variant_of(const Family& family);
    // Whose the BPF correction's pins are (bpf_wire.hpp): the variant that holds the rules.
    BackendKind wire_owner() {
        return variant_of(families[0]) == IptablesVariant::nft ? BackendKind::iptables_nft
                                                               : BackendKind::iptables_legacy;
    }
    // Lists and zeroes the rules of these chains, exactly: see counters().
    std::vector<CountedRule> reset_chains(const Family& family,
                                          const std::vector<std::string>& chains);
    // Before Linux 6.3 iptables-nft rules cannot be read and zeroed at once: each counting rule
    // is re-created, and packets counted between the read and the commit are lost.
    std::vector<CountedRule> recreate_chains(const Family& family,
                                             const std::vector<std::string>& chains);
    std::map<std::string, IptablesVariant> resolved_;
    void destroy_sets(const std::string& prefix, const std::vector<std::string>& keep) const {
        const auto listed = run_process({"ipset", "list", "-n"});
        if (listed.status != 0) {
            return; // no ipset support at all: nothing of ours can exist
        }
        for (const auto& name : split_lines(listed.out)) {
            if (name.rfind(prefix, 0) == 0 &&
                std::find(keep.begin(), keep.end(), name) == keep.end()) {
                const auto result = run_process({"ipset", "destroy", name});
                if (result.status != 0) {
                    throw RuntimeError(ErrorKind::system,
                                       "ipset destroy " + name + " failed: " + result.err);
                }
            }
        }
    }
};

std::vector<std::string> missing_sets(const std::vector<std::string>& wanted) {
    const auto listed = run_process({"ipset", "list", "-n"});
    const auto present = split_lines(listed.out);
    std::vector<std::string> out;
    for (const auto& name : wanted) {
        if (std::find(present.begin(), present.end(), name) == present.end()) {
            out.push_back(name);
        }
    }
    return out;
}

// Sets a dry run created; destroyed when it ends, however it ends.
struct TemporarySets {
    std::vector<std::string> names;
    TemporarySets() = default;
    TemporarySets(const TemporarySets&) = delete;
    TemporarySets& operator=(const TemporarySets&) = delete;
    ~TemporarySets() {
        for (const auto& name : names) {
            try {
                run_process({"ipset", "destroy", name});
            } catch (const RuntimeError&) {
                // Nothing refers to it; a later apply or remove of the policy destroys it.
            }
        }
    }
};

const IptablesPolicy& iptables_of(const CompiledPolicy& policy) {
    if (!policy.iptables) {
        throw std::logic_error("policy was not compiled for the iptables target");
    }
    return *policy.iptables;
}

ApplyReport IptablesBackend::apply(const CompiledPolicy& compiled, bool dry_run) {
    const IptablesPolicy& policy = iptables_of(compiled);
    const MutationLock lock;
    ApplyReport report;
    report.table = policy.prefix;
    report.dry_run = dry_run;
    // Sets first: the rules refer to them, and iptables resolves set names while parsing, even
    // for --test. A changed timeout is a new name (see iptables_names.hpp), so -exist only ever
    // meets an identical set. A dry run creates only missing sets, referenced by no rule, and
    // destroys them again.
    const bool shared_objects =
        !policy.sets.empty() ||
        std::any_of(compiled.quotas.begin(), compiled.quotas.end(),
                    [](const CompiledQuota& quota) { return !quota.objects.empty(); });
    if (shared_objects) {
        if (const auto other = other_variant_holding(policy.prefix)) {
            throw RuntimeError(
                ErrorKind::rejected,
                "error: policy " + compiled.policy_name + " is applied here with " +
                    applied_label(netns_, *other, compiled.policy_name) +
                    "; its ipsets and nfacct objects (" + policy.prefix +
                    "*) exist once per network namespace, shared by both iptables variants, so "
                    "a second apply would count in the same sets and neither remove could "
                    "destroy them: remove it there first (acctc remove --backend " +
                    std::string(backend_info(*other).name) + " " + compiled.policy_name + ")");
        }
    }
    refuse_wire_of_other_backend(netns_, compiled.policy_name, compiled.bpf_wire, wire_owner());
    TemporarySets temporary;
    if (!policy.ipset.empty()) {
        if (dry_run) {
            temporary.names = missing_sets(policy.sets);
        }
        const auto result = run_process({"ipset", "-exist", "restore"}, policy.ipset);
        if (result.status != 0 && result.err.find("set type not supported") != std::string::npos) {
            // Kernels built without some ipset types: hash:mac is CONFIG_IP_SET_HASH_MAC.
            throw RuntimeError(ErrorKind::unsupported,
                               "error: ipset restore failed: " + result.err +
                                   "this kernel lacks an ipset type the policy needs (split host "
                                   "mac needs hash:mac, CONFIG_IP_SET_HASH_MAC); the nft backend "
                                   "counts per MAC without it");
        }
        if (result.status != 0) {
            throw RuntimeError(ErrorKind::rejected, "error: ipset restore failed: " + result.err);
        }
    }
    std::vector<SavedTable> before;
    std::vector<ReloadText> reloads;
    std::optional<std::vector<CountedRule>> final_rules; // after the commit, before the cleanup
    std::vector<CounterReading> removed_hosts; // the hosts of sets no rule counts in any more
    for (const auto& family : families) {
        before.push_back(parse_save(save(family, true)));
        reloads.push_back(reload_text(policy.*family.text, policy, before.back()));
    }
    report.created = owned_chains(before[0], policy.prefix).empty() &&
                     owned_chains(before[1], policy.prefix).empty();
    // Both texts are tested before either is committed: the two families are two transactions.
    for (std::size_t f = 0; f < 2; ++f) {
        restore(families[f], reloads[f].text, true);
    }
    if (!dry_run) {
        // Quotas' nfacct objects: the rules can only name existing ones, and the old ones are
        // in use until the restore (docs/iptables.md, "Quotas").
        QuotaObjectLoad quotas(compiled, policy.prefix, before);
        quotas.create();
        for (std::size_t f = 0; f < 2; ++f) {
            // iptables-nft makes the filter table for the first rule: remove deletes it again.
            const bool creates = variant_of(families[f]) == IptablesVariant::nft &&
                                 !nft_filter_table_exists(families[f].nft_family);
            restore(families[f], reloads[f].text, false);
            if (creates) {
                remember_created_filter_table(families[f].nft_family);
            }
        }
        // The chains and host sets that went away are unreachable now: once no packet still
        // walks the old rules, their counts are final; read them, then delete them.
        std::vector<IpsetHostSet> gone_sets;
        for (auto& set : ipset_host_sets(all_rules(before[0], before[1]),
                                         {{compiled.policy_name, policy.prefix}})) {
            if (std::find(policy.sets.begin(), policy.sets.end(), set.ipset) == policy.sets.end()) {
                gone_sets.push_back(std::move(set));
            }
        }
        const bool cleanup = !reloads[0].cleanup.empty() || !reloads[1].cleanup.empty();
        if (cleanup || !gone_sets.empty()) {
            wait_for_packet_path();
            removed_hosts = read_ipset_hosts(gone_sets, false);
        }
        if (cleanup) {
            final_rules =
                counted(parse_save(save(families[0], true)), parse_save(save(families[1], true)));
            for (std::size_t f = 0; f < 2; ++f) {
                if (!reloads[f].cleanup.empty()) {
                    restore(families[f], reloads[f].cleanup, false);
                }
            }
        }
        quotas.commit();
        destroy_sets(policy.prefix, policy.sets);
        // Merged packets corrected in BPF, as on nft (bpf_wire.hpp).
        report.wire_fallback = apply_wire_correction(compiled.policy_name, compiled.bpf_wire,
                                                     wire_owner(), report.created);
    }
    const auto old_rules = counted(before[0], before[1]);
    auto old = readings(compiled.policy_name, policy.prefix, old_rules);
    use_recorded_origins(policy.prefix, old_rules, old);
    if (!dry_run) {
        // Kept counting rules keep the comment of the apply that made them: remember the
        // origin each counter has now (the compiled text of both families names every one).
        std::vector<CountedRule> kept;
        for (const auto& rule : old_rules) {
            const auto chain =
                std::find_if(policy.counter_chains.begin(), policy.counter_chains.end(),
                             [&](const auto& c) { return c.first == rule.counter; });
            if (chain != policy.counter_chains.end() &&
                reloads[0].kept_chains.count(chain->second) != 0U &&
                reloads[1].kept_chains.count(chain->second) != 0U) {
                kept.push_back(rule);
            }
        }
        auto now = counted_rules(parse_save(policy.v4).rules);
        const auto v6 = counted_rules(parse_save(policy.v6).rules);
        now.insert(now.end(), v6.begin(), v6.end());
        record_iptables_origins(policy.prefix, kept, now);
    }
    for (const auto& [counter, chain] : policy.counter_chains) {
        auto it = std::find_if(old.begin(), old.end(),
                               [&](const auto& r) { return r.sample.counter == counter; });
        const bool kept =
            reloads[0].kept_chains.count(chain) && reloads[1].kept_chains.count(chain);
        if (kept && it != old.end()) {
            report.kept.push_back(*it);
        } else {
            report.added.push_back(counter);
        }
    }
    // Removed counters with what they counted up to the commit (a dry run: up to now).
    auto last = final_rules ? readings(compiled.policy_name, policy.prefix, *final_rules) : old;
    if (final_rules) {
        use_recorded_origins(policy.prefix, *final_rules, last);
    }
    for (const auto& reading : last) {
        const bool still =
            std::any_of(policy.counter_chains.begin(), policy.counter_chains.end(),
                        [&](const auto& c) { return c.first == reading.sample.counter; });
        if (!still) {
            report.removed.push_back(reading);
        }
    }
    report.removed.insert(report.removed.end(), removed_hosts.begin(), removed_hosts.end());
    return report;
}

std::vector<CounterReading> IptablesBackend::counters(const std::string& policy, bool reset) {
    std::optional<MutationLock> lock;
    if (reset) {
        lock.emplace();
    }
    // A reset reads the values from the zeroing operation itself, not from this save.
    const SavedTable v4 = parse_save(save(families[0], !reset));
    const SavedTable v6 = parse_save(save(families[1], !reset));
    std::map<std::string, std::string> policies;
    if (policy.empty()) {
        policies = applied_policies(v4);
        policies.merge(applied_policies(v6));
    } else {
        policies[policy] = prefix_of(policy, v4, v6);
    }
    std::vector<CountedRule> rules;
    if (!reset) {
        rules = counted(v4, v6);
    } else {
        // The chains holding the policies' counting rules, and nothing else: zeroing never
        // touches a foreign rule, nor acctc's jumps and classification rules.
        for (std::size_t f = 0; f < 2; ++f) {
            std::vector<std::string> chains;
            for (const auto& rule : (f == 0 ? v4 : v6).rules) {
                const bool ours = std::any_of(policies.begin(), policies.end(), [&](const auto& p) {
                    return rule.chain.rfind(p.second, 0) == 0;
                });
                if (ours && !counter_of(rule).empty() &&
                    std::find(chains.begin(), chains.end(), rule.chain) == chains.end()) {
                    chains.push_back(rule.chain);
                }
            }
            const auto part = reset_chains(families[f], chains);
            rules.insert(rules.end(), part.begin(), part.end());
        }
    }
    std::vector<CounterReading> out;
    for (const auto& [name, prefix] : policies) {
        auto part = readings(name, prefix, rules);
        add_wire_corrections(name, wire_owner(), reset, part); // bpf_wire.hpp
        use_recorded_origins(prefix, rules, part);
        out.insert(out.end(), part.begin(), part.end());
    }
    // `split host`: one reading per element of the policies' host sets.
    auto hosts = read_ipset_hosts(ipset_host_sets(all_rules(v4, v6), policies), reset);
    out.insert(out.end(), std::make_move_iterator(hosts.begin()),
               std::make_move_iterator(hosts.end()));
    // The nft backend's order: by policy, then counter name, hosts by address text.
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tuple(a.sample.policy, a.sample.counter, a.sample.label(Dimension::host)) <
               std::tuple(b.sample.policy, b.sample.counter, b.sample.label(Dimension::host));
    });
    return out;
}

IptablesVariant IptablesBackend::variant_of(const Family& family) {
    if (variant_ != IptablesVariant::automatic) {
        return variant_;
    }
    auto it = resolved_.find(family.tool);
    if (it == resolved_.end()) {
        // Before 1.8 there was only legacy, and -V does not say.
        it = resolved_
                 .emplace(family.tool,
                          installed_variant(family.tool).value_or(IptablesVariant::legacy))
                 .first;
    }
    return it->second;
}

std::vector<CountedRule> IptablesBackend::reset_chains(const Family& family,
                                                       const std::vector<std::string>& chains) {
    if (chains.empty()) {
        return {};
    }
    if (variant_of(family) == IptablesVariant::nft) {
        auto rules = reset_iptables_nft_chains(family.text == &IptablesPolicy::v6, chains);
        return rules ? *rules : recreate_chains(family, chains);
    }
    // iptables-legacy: one restore lists each chain with its counters (-S -v) and zeroes it (-Z)
    // on one libiptc handle. Its commit replaces the table, which hands back the counters as they
    // were at that instant, and adds to the new table what each zeroed rule counted since the
    // listing (the replaced value minus the listed one): what was listed is subtracted exactly.
    std::string text = "*filter\n";
    for (const auto& chain : chains) {
        text += "-S " + chain + " -v\n-Z " + chain + "\n";
    }
    const std::string argv0 = program(family.tool, "restore");
    const auto result = run_process({argv0, "--noflush", "-w"}, text + "COMMIT\n");
    if (result.status != 0) {
        throw RuntimeError(ErrorKind::system, argv0 + " failed to reset counters: " + result.err);
    }
    return counted_rules(parse_listing(result.out));
}

std::vector<CountedRule> IptablesBackend::recreate_chains(const Family& family,
                                                          const std::vector<std::string>& chains) {
    const SavedTable table = parse_save(save(family, true));
    std::vector<SavedRule> rules;
    std::string text = "*filter\n";
    for (const auto& rule : table.rules) {
        if (std::find(chains.begin(), chains.end(), rule.chain) != chains.end() &&
            !counter_of(rule).empty()) {
            rules.push_back(rule);
            text += ":" + rule.chain + " - [0:0]\n-A " + rule.chain + rule.spec + "\n";
        }
    }
    restore(family, text + "COMMIT\n", false);
    return counted_rules(rules);
}

RemoveReport IptablesBackend::remove(const std::string& policy) {
    const MutationLock lock;
    const SavedTable v4 = parse_save(save(families[0], true));
    const SavedTable v6 = parse_save(save(families[1], true));
    const std::string prefix = prefix_of(policy, v4, v6);
    RemoveReport report;
    report.table = prefix;
    const auto rules = counted(v4, v6);
    report.final_counters = readings(policy, prefix, rules);
    add_wire_corrections(policy, wire_owner(), false, report.final_counters);
    use_recorded_origins(prefix, rules, report.final_counters);
    forget_iptables_origins(prefix);
    auto hosts = read_ipset_hosts(ipset_host_sets(all_rules(v4, v6), {{policy, prefix}}), false);
    report.final_counters.insert(report.final_counters.end(), hosts.begin(), hosts.end());
    for (std::size_t f = 0; f < 2; ++f) {
        const SavedTable& table = f == 0 ? v4 : v6;
        std::string text = "*filter\n";
        for (const auto& jump : owned_jumps(table, prefix)) {
            text += "-D " + jump.chain + jump.spec + "\n";
        }
        const auto chains = owned_chains(table, prefix);
        for (const auto& chain : chains) {
            text += "-F " + chain + "\n";
        }
        for (const auto& chain : chains) {
            text += "-X " + chain + "\n";
        }
        restore(families[f], text + "COMMIT\n", false);
        if (variant_of(families[f]) == IptablesVariant::nft) {
            delete_created_filter_table(families[f].nft_family,
                                        parse_save(save(families[f], false)));
        }
    }
    // Applied with the other variant too (by an acctc before it refused that): its rules still
    // use the shared sets and quota objects, which its own remove destroys.
    if (!other_variant_holding(prefix)) {
        destroy_sets(prefix, {});
        remove_quota_objects(prefix); // no rule charges them now
    }
    remove_bpf_wire(policy, wire_owner());
    return report;
}

std::string IptablesBackend::live_ruleset(const std::string& policy) {
    const std::string v4 = save(families[0], false);
    const std::string v6 = save(families[1], false);
    std::map<std::string, std::string> applied = applied_policies(parse_save(v4));
    applied.merge(applied_policies(parse_save(v6)));
    if (!applied.count(policy)) {
        return {}; // not loaded: like the nft backend, the diff compares with nothing
    }
    const std::string& prefix = applied.at(policy);
    return "# iptables\n" + normalised_rules(v4, prefix) + "# ip6tables\n" +
           normalised_rules(v6, prefix);
}

std::string IptablesBackend::planned_ruleset(const CompiledPolicy& compiled) {
    const IptablesPolicy& policy = iptables_of(compiled);
    return "# iptables\n" + normalised_rules(policy.v4, policy.prefix) + "# ip6tables\n" +
           normalised_rules(policy.v6, policy.prefix);
}

} // namespace

std::unique_ptr<Backend> make_iptables_backend(const std::string& netns, IptablesVariant variant) {
    return std::make_unique<IptablesBackend>(netns, variant);
}

} // namespace acctc::runtime
