#include "nft_backend.hpp"

#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/device_offloads.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/nft_context.hpp"
#include "bpf_nft_carry.hpp"
#include "bpf_policy_classes.hpp"
#include "bpf_policy_hosts.hpp"
#include "bpf_wire.hpp"
#include "chain_record.hpp"
#include "counter_descriptions.hpp"
#include "counter_origins.hpp"
#include "counter_relabel.hpp"
#include "host_readings.hpp"
#include "kernel_error_map.hpp"
#include "mutation_lock.hpp"
#include "nft_counter_read.hpp"
#include "nft_egress.hpp"
#include "nft_element_carry.hpp"
#include "nft_element_counters.hpp"
#include "nft_element_swap.hpp"
#include "nft_host_counters.hpp"
#include "nft_host_quota_starts.hpp"
#include "nft_inventory.hpp"
#include "nft_listing.hpp"
#include "nft_new_table.hpp"
#include "nft_reload_batch.hpp"
#include "packet_path.hpp"
#include "quota_relabel.hpp"
#include "reload_plan.hpp"
#include "set_shape.hpp"
#include "wire_quota_budgets.hpp"

#include <algorithm>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <map>
#include <nftables/libnftables.h>
#include <optional>
#include <set>
#include <string_view>

namespace acctc::runtime {
namespace {

constexpr std::string_view table_prefix = "acctc_";

CounterReading reading_of(const KernelCounter& counter) {
    return runtime::reading_of(counter.table.substr(table_prefix.size()), counter.name,
                               counter.packets, counter.bytes,
                               decode_counter_comment(counter.name, counter.comment));
}

std::vector<std::string> acctc_tables(NftNetlink& netlink) {
    return table_names(netlink, NFPROTO_INET, table_prefix);
}

void validate_policy_name(const std::string& policy) {
    const bool valid = !policy.empty() && std::all_of(policy.begin(), policy.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
    if (!valid) {
        throw RuntimeError(ErrorKind::unknown_table, "'" + policy + "' is not a policy name");
    }
}

// The shapes of the table's sets and maps that `wanted` declares again, as nft lists them
// (terse: without elements). One listing per set: nft 1.0 cannot list several in one run.
// `known`: sets whose shape is the wanted one (counting sets kept: 1,024 listings of 100,000
// classes cost a second of CPU).
std::map<std::string, SetShape> live_set_shapes(const std::string& table,
                                                const TableInventory& inventory,
                                                const std::map<std::string, SetShape>& wanted,
                                                const std::set<std::string>& known) {
    std::map<std::string, SetShape> shapes;
    NftContext context(NFT_CTX_OUTPUT_TERSE);
    for (const auto& set : inventory.sets) {
        const auto again = wanted.find(set.name);
        if (again == wanted.end()) {
            continue;
        }
        if (known.count(set.name) != 0) {
            shapes.insert(*again);
            continue;
        }
        const NftResult listing = context.run(std::string(set.map ? "list map" : "list set") +
                                              " inet " + table + " " + identifier(set.name));
        if (!listing.ok) {
            throw_nft_failure("cannot list set " + set.name + " of table inet " + table,
                              listing.errors);
        }
        shapes.merge(parse_set_shapes(listing.output));
    }
    return shapes;
}

} // namespace

std::vector<std::string> set_change_notes(const ApplyReport& report) {
    std::vector<std::string> notes;
    for (const auto& set : report.sets_replaced) {
        const std::string would = report.dry_run ? "would be" : "are";
        notes.push_back("note: set " + set.name + (report.dry_run ? " would be" : " was") +
                        " re-created (" + set.change + "); " +
                        (set.quota_use_restored
                             ? "its hosts' use " + std::string(report.dry_run ? "would be" : "is") +
                                   " restored from the period's totals"
                             : "the elements it held " + would + " gone"));
    }
    // A split host set renamed (its parts: a size across 8,192, or a table from before parts)
    // is removed with its hosts' counts: say so, as for a re-created one.
    for (const auto& name : report.sets_removed) {
        notes.push_back("note: set " + name + (report.dry_run ? " would be" : " was") +
                        " removed; the elements it held " + (report.dry_run ? "would be" : "are") +
                        " gone");
    }
    for (const auto& moved : report.hosts_moved) {
        notes.push_back("note: counter " + moved + ", every host with its counts");
    }
    for (const auto& moved : report.classes_moved) {
        notes.push_back("note: classification " + moved + ", every class with its counts");
    }
    for (const auto& name : report.hosts_dropped) {
        notes.push_back("note: counter " + name +
                        " no longer counts in BPF; the hosts' counts it held are gone");
    }
    return notes;
}

std::string table_for_policy(const std::string& policy) {
    validate_policy_name(policy);
    return std::string(table_prefix) + policy;
}

NftBackend::NftBackend(const std::string& netns) : netns_(netns), scope_(netns) {}

void NftBackend::require_table(const std::string& policy, const std::string& table) {
    if (!table_exists(netlink_, table)) {
        throw RuntimeError(
            ErrorKind::unknown_table,
            "policy '" + policy + "' is not applied: no table inet " + table +
                (netns_.empty() ? std::string() : " in network namespace '" + netns_ + "'"));
    }
}

void NftBackend::run_transaction(const std::string& text, const std::string& table, bool dry_run) {
    NftContext context;
    context.set_dry_run(dry_run);
    const NftResult result = context.run_as_file(text);
    if (result.ok) {
        return;
    }
    const auto diagnostics = map_kernel_errors(result.errors, text);
    if (diagnostics.empty()) {
        throw_nft_failure("nftables rejected the transaction for table inet " + table,
                          result.errors);
    }
    std::string message = render_kernel_diagnostics(diagnostics, "table inet " + table);
    message.erase(message.find_last_not_of('\n') + 1);
    const bool unsupported = std::any_of(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
        return is_missing_kernel_support(d.message);
    });
    const bool denied = result.errors.find("Operation not permitted") != std::string::npos;
    if (denied) {
        throw_nft_failure("cannot change table inet " + table, result.errors);
    }
    throw RuntimeError(unsupported ? ErrorKind::unsupported : ErrorKind::rejected, message);
}

std::vector<CounterReading> NftBackend::readings(const std::string& table, bool reset) {
    // A class is read from several dumps (its object, the counting sets, the carry sets): a
    // reload committed in between (a carry written as its retired set is deleted) could show
    // it twice or not at all, and a reading that dips looks like a reset to the period totals.
    // A plain read is taken again until no transaction came between; a reset holds the
    // mutation lock, so no reload can.
    // (A set the reload deleted between the listing and its dump fails the read: taken again.)
    for (int attempt = 0;; ++attempt) {
        const std::uint32_t generation = reset ? 0 : ruleset_generation(netlink_);
        std::vector<CounterReading> result;
        try {
            result = readings_once(table, reset);
        } catch (const RuntimeError&) {
            if (reset || attempt == 10 || ruleset_generation(netlink_) == generation) {
                throw;
            }
            continue;
        }
        if (reset || attempt == 10 || ruleset_generation(netlink_) == generation) {
            return result;
        }
    }
}

std::vector<CounterReading> NftBackend::readings_once(const std::string& table, bool reset) {
    const std::string policy = table.substr(table_prefix.size());
    // Each counter's description as the last read of this table decoded it, where its comment
    // is the same: no comment decoded, no string or list built per counter.
    CounterDescriptions descriptions = CounterDescriptions::take(table);
    const auto counter_reading = [&](std::string_view name, std::string_view comment,
                                     std::uint64_t packets, std::uint64_t bytes,
                                     bool unchanged = false) {
        CounterReading out{{policy, std::string(name), packets, bytes,
                            descriptions.get(name, comment, unchanged)}};
        out.sample.wire = out.sample.what().wire;
        return out;
    };
    std::vector<CounterReading> result;
    for (const auto& counter : read_table_counters(netlink_, table, reset)) {
        result.push_back(
            counter_reading(counter.name, counter.comment, counter.packets, counter.bytes));
    }
    // A large classification's classes: the sums of their elements (nft_element_counters.hpp),
    // merged into the counter objects' name order, so that counters() need not sort them.
    const std::size_t objects = result.size();
    ElementCounterSums elements =
        read_element_counters(netlink_, table, reset, descriptions.size());
    const auto sums = elements.sums(&descriptions.elements());
    result.reserve(objects + sums.size());
    // The sums are in name order, their comments in the order the kernel sent them: each
    // comment is a cache miss unless asked for a few readings ahead (~15 % of a read).
    constexpr std::size_t ahead = 8;
    // Each reading's receive devices are resolved here, as CounterSource would: the readings of
    // one classification name the same devices, and the resolver keeps its last answer.
    ReceiveOffloadResolver offloads(netns_);
    for (std::size_t i = 0; i < sums.size(); ++i) {
        if (i + ahead < sums.size()) {
            __builtin_prefetch(sums[i + ahead].comment.data());
        }
        const auto& sum = sums[i];
        CounterSample& sample =
            result
                .emplace_back(counter_reading(sum.name, sum.comment, sum.packets, sum.bytes,
                                              elements.unchanged()))
                .sample;
        if (sample.wire.has(WireDifference::receive_offload) &&
            !offloads.merged(sample.what().devices)) {
            sample.wire.remove(WireDifference::receive_offload);
        }
    }
    descriptions.elements() = std::move(elements); // `sums` point into them: kept alive
    CounterDescriptions::keep(table, std::move(descriptions));
    if (objects != 0 && objects != result.size()) {
        std::inplace_merge(result.begin(), result.begin() + static_cast<std::ptrdiff_t>(objects),
                           result.end(), [](const CounterReading& a, const CounterReading& b) {
                               return a.sample.counter < b.sample.counter;
                           });
        // A class counted by an object and by carried (or retired) elements: one reading, the
        // sum (nft_element_carry.hpp).
        std::size_t kept = 0;
        for (std::size_t i = 0; i < result.size(); ++i) {
            if (kept != 0 && result[kept - 1].sample.counter == result[i].sample.counter) {
                result[kept - 1].sample.packets += result[i].sample.packets;
                result[kept - 1].sample.bytes += result[i].sample.bytes;
            } else {
                if (kept != i) {
                    result[kept] = std::move(result[i]);
                }
                ++kept;
            }
        }
        result.resize(kept);
    }
    add_egress_counts(netlink_, table, reset, result);
    add_wire_corrections(table.substr(table_prefix.size()), BackendKind::nftables, reset,
                         result); // bpf_wire.hpp
    // Classes counted in BPF (bpf_policy_classes.hpp) read as their nft counters would.
    for (auto& reading : read_bpf_classes(policy, reset)) {
        result.push_back(std::move(reading));
    }
    // A kept counter's kernel comment is the origin it was created with; the policy applied
    // last may declare it elsewhere.
    const auto origins = recorded_origins(netlink_, table);
    for (auto& reading : result) {
        const auto declared = origins.find(reading.sample.counter);
        if (declared != origins.end()) {
            reading.set_origin(declared->second);
        }
    }
    // `split host`: one reading per host, in its place among the named counters; those
    // counted in BPF read as the nft sets do.
    auto sets = dump_host_counters(netlink_, table, reset);
    BpfHostReadings bpf = read_bpf_hosts(policy, reset);
    std::move(bpf.sets.begin(), bpf.sets.end(), std::back_inserter(sets));
    std::move(bpf.overflows.begin(), bpf.overflows.end(), std::back_inserter(result));
    return with_host_readings(std::move(result), sets, policy);
}

ApplyReport NftBackend::apply(const CompiledPolicy& policy, bool dry_run) {
    const std::string& table = policy.table_name;
    if (!table.starts_with(table_prefix)) {
        throw RuntimeError(ErrorKind::rejected,
                           "refusing to load table '" + table + "': acctc owns only acctc_*");
    }
    std::optional<MutationLock> lock;
    if (!dry_run) {
        lock.emplace();
    }
    refuse_wire_of_other_backend(netns_, policy.policy_name, policy.bpf_wire,
                                 BackendKind::nftables);
    // A table an apply left half-loaded (nft_new_table.hpp) has counted nothing and holds
    // nothing to keep: it goes first, and this apply loads the table anew.
    const bool unfinished =
        !dry_run && table_exists(netlink_, table) && stopped_between_steps(netlink_, table);
    if (unfinished) {
        delete_new_table(netlink_, table);
    }
    // Per-host counters in BPF first (bpf_policy_hosts.hpp); put back as they were if the table
    // fails. One that counted in the table's sets until now starts with their hosts and counts:
    // read before its program attaches, dropped with the sets in the commit (bpf_nft_carry.hpp).
    std::vector<AppliedPins> bpf_applied;
    std::vector<std::string> into_bpf;
    if (!dry_run && !policy.bpf_hosts.empty() && table_exists(netlink_, table)) {
        const auto in_sets = commented_sets(netlink_, table, is_host_set_comment);
        for (const auto& counter : policy.bpf_hosts) {
            if (std::any_of(in_sets.begin(), in_sets.end(), [&](const CommentedSet& set) {
                    return host_counter_name(set.name) == counter.counter;
                })) {
                into_bpf.push_back(counter.counter);
            }
        }
    }
    if (!dry_run) {
        bpf_applied.push_back(apply_bpf_hosts(policy.policy_name, policy.bpf_hosts,
                                              nft_hosts_for_bpf(netlink_, table, into_bpf)));
    }
    // Classifications in BPF likewise (bpf_policy_classes.hpp): one that nft's rules counted
    // until now starts with its classes' counts, read before its program attaches.
    const std::vector<std::string> counted_in_bpf = bpf_class_counters(policy.policy_name);
    const std::set<std::string> classes_before(counted_in_bpf.begin(), counted_in_bpf.end());
    std::vector<std::string> classifications_into_bpf;
    if (!dry_run && !policy.bpf_classes.empty()) {
        std::map<std::string, BpfClassCounts> carried;
        if (table_exists(netlink_, table) && !stopped_between_steps(netlink_, table)) {
            std::set<std::string> moving;
            for (const auto& classify : policy.bpf_classes) {
                for (const auto& cls : classify.classes) {
                    if (classes_before.count(cls.counter) == 0) {
                        moving.insert(cls.counter);
                    }
                }
            }
            if (!moving.empty()) {
                for (const auto& reading : readings(table, false)) {
                    if (moving.count(reading.sample.counter) != 0) {
                        carried[reading.sample.counter] = {reading.sample.packets,
                                                           reading.sample.bytes};
                    }
                }
            }
            for (const auto& classify : policy.bpf_classes) {
                if (std::any_of(classify.classes.begin(), classify.classes.end(),
                                [&](const BpfClass& cls) { return carried.count(cls.counter); })) {
                    classifications_into_bpf.push_back(classify.classify);
                }
            }
        }
        bpf_applied.push_back(apply_bpf_classes(policy.policy_name, policy.bpf_classes, carried));
    }
    const std::vector<std::string> created_quotas =
        dry_run ? std::vector<std::string>{}
                : wire_quotas_to_create(netlink_, table, policy.bpf_wire);
    ApplyReport report = apply_table(policy, dry_run, bpf_applied);
    report.unfinished_replaced = unfinished;
    for (const auto& counter : policy.bpf_hosts) {
        report.pinned_counters.push_back(counter.counter);
        report.pinned_counters.push_back(counter.overflow);
    }
    for (const auto& counter : into_bpf) {
        report.hosts_moved.push_back(counter + " moved from nft sets to BPF");
    }
    std::set<std::string> in_bpf;
    for (const auto& classify : policy.bpf_classes) {
        for (const auto& cls : classify.classes) {
            report.pinned_counters.push_back(cls.counter);
            in_bpf.insert(cls.counter);
        }
    }
    // Classes now counted in BPF with their counts are not removed counters.
    std::erase_if(report.removed, [&](const CounterReading& reading) {
        return in_bpf.count(reading.sample.counter) != 0;
    });
    for (const auto& classify : classifications_into_bpf) {
        report.classes_moved.push_back(classify + " moved from nft rules to BPF");
    }
    if (!dry_run) {
        report.wire_fallback = apply_wire_correction(policy.policy_name, policy.bpf_wire,
                                                     BackendKind::nftables, report.created);
        // The reload set the quota objects' budgets as declared (wire_quota_budgets.hpp).
        settle_wire_quotas(netlink_, policy.policy_name, created_quotas);
    }
    return report;
}

ApplyReport NftBackend::apply_table(const CompiledPolicy& policy, bool dry_run,
                                    std::vector<AppliedPins>& bpf_applied) {
    const std::string& table = policy.table_name;
    auto inventory = read_inventory(netlink_, table);
    // Carry sets hold data, not definition: no plan of the reload touches them (the carry step
    // below replaces them).
    if (inventory) {
        std::erase_if(inventory->sets, [](const auto& set) { return is_carry_set(set.name); });
    }
    std::vector<std::string> existing;
    std::map<std::string, CounterReading> before;
    if (inventory) {
        for (const auto& counter : inventory->counters) {
            existing.push_back(counter.name);
            before[counter.name] = reading_of(counter);
        }
    }
    std::vector<std::string> wanted;
    for (const auto& counter : policy.counters) {
        wanted.push_back(counter.name);
    }
    const CounterPlan plan = plan_counters(existing, wanted);

    const TableInventory* current = inventory ? &*inventory : nullptr;
    // Counting sets (nft_element_carry.hpp): kept when their elements stay exactly; otherwise
    // a new generation under another name, so the definition names each set as it will be.
    ElementReload elements;
    elements.changed = current == nullptr && !policy.element_sets.empty();
    if (current != nullptr) {
        elements =
            plan_element_reload(netlink_, table, policy.element_sets, policy.element_counters);
    }
    // The definition as loaded, copied only when it changes (10 MB at 100,000 classes).
    const bool renames = std::any_of(elements.names.begin(), elements.names.end(),
                                     [](const auto& name) { return name.first != name.second; });
    const std::string renamed_copy =
        renames ? with_set_names(policy.definition, elements.names) : std::string();
    const std::string& renamed = renames ? renamed_copy : policy.definition;
    SetPlan sets;
    std::set<std::string> declared_sets;
    if (current != nullptr) {
        const auto wanted_sets = parse_set_shapes(renamed);
        for (const auto& entry : wanted_sets) {
            declared_sets.insert(entry.first);
        }
        sets = plan_sets(current->sets,
                         live_set_shapes(table, *current, wanted_sets, elements.kept), wanted_sets);
        recreate_relabelled_quota_sets(
            sets,
            commented_sets(netlink_, table,
                           [](std::string_view comment) { return is_quota_comment(comment); }),
            renamed);
    }
    // Attempts, from the most to the least preserving; a rejected one commits nothing. A kept
    // base chain whose hook, priority or type changed cannot be updated in place: re-create
    // the base chains. A kept set the kernel does not find identical (a difference nft's
    // listing does not show) is refused with "File exists": re-create the sets. Real policy
    // errors fail every attempt and are reported from the last.
    struct Attempt {
        bool keep_chains;
        bool keep_sets;
    };
    const bool chains = current != nullptr && !current->chains.empty();
    const bool kept_sets = !sets.keep.empty();
    std::vector<Attempt> attempts{{true, true}};
    if (chains) {
        attempts.push_back({false, true});
    }
    if (kept_sets) {
        attempts.push_back({true, false});
    }
    if (chains && kept_sets) {
        attempts.push_back({false, false});
    }
    // Which counters change identity is known from the inventory's comments; only when some do
    // (a one-time migration) are the values read again, as late as possible: what is counted
    // between that read and the commit is lost for the counters re-created. A second read of
    // every counter on each reload cost as much as the rest of a reload of 100,000.
    std::vector<Relabel> relabels;
    if (current != nullptr && !plan.kept.empty() &&
        !counters_to_relabel(current->counters, renamed).empty()) {
        relabels = counters_to_relabel(read_table_counters(netlink_, table, false), renamed);
    }
    const std::vector<QuotaEvent> live_quotas =
        current != nullptr ? dump_quota_objects(netlink_, table) : std::vector<QuotaEvent>{};
    const std::vector<QuotaRelabel> quota_relabels = quotas_to_relabel(live_quotas, renamed);
    // Quota objects created anew continue from the period totals (after a flush, at boot).
    const std::string started = policy.quota_starts.objects.empty()
                                    ? std::string()
                                    : with_quota_starts(renamed, live_quotas, policy.quota_starts);
    const std::string& definition = policy.quota_starts.objects.empty() ? renamed : started;
    // Deleting a kept object needs every rule naming it gone first: one transaction that
    // flushes the whole table, no chain left alone or staged.
    const bool recreating = !relabels.empty() || !quota_relabels.empty();
    // Chains whose rules do not change are left alone, and those that change are filled before
    // the commit jumps to them (see reload_transactions). A relabelled counter is deleted and
    // re-created, which the kernel refuses while a kept rule still refers to it: that (one-time)
    // reload replaces every chain.
    LiveChains live;
    if (current != nullptr && !dry_run && !recreating) {
        live = recorded_unchanged_chains(netlink_, table, renamed);
    }
    const auto record_origins_of_policy = [&] {
        std::map<std::string, std::string> origins;
        for (const auto& counter : policy.counters) {
            origins[counter.name] = counter.origin;
        }
        // A kept element keeps the comment (and origin) it was added with, as a counter does:
        // recorded where that origin is not the policy's.
        for (const auto& counter : policy.element_counters) {
            if (elements.moved.count(counter.name) != 0) {
                origins[counter.name] = counter.origin;
            }
        }
        record_origins(netlink_, table, origins);
    };
    // A reload that only adds or removes counters no rule uses (the same policy again, most
    // often) is those counters in one netlink transaction: libnftables would first fetch every
    // object of the table, which costs seconds at 100,000 counters. Quotas never go this way
    // (see only_counters_change), nor a counter to add that declared_counters() cannot read:
    // the full reload loads the text as it is. Nor egress tables wanted or left to delete (the
    // egress transaction is not empty): their counters add to the inet ones of the same name,
    // which the values read with the inventory lack.
    // The egress transaction is built (and a device acctc cannot count at egress refused)
    // before anything is committed.
    const std::string egress = egress_transaction(netlink_, table, policy.egress);
    // Per-host counters BPF counted until now go into the sets the commit declares, with their
    // counts (bpf_nft_carry.hpp): taken as late as possible, the packets between their stop
    // and the commit are counted nowhere.
    std::map<std::string, BpfHostCounts> from_bpf;
    // Classes BPF counted until now: declared in the commit with their counts.
    std::map<std::string, TakenClass> classes_from_bpf;
    // Their pins: unpinned once the commit went through; should it fail, they count on.
    std::vector<TakenPins> taken_pins;
    if (!dry_run) {
        TakenHosts hosts = take_bpf_hosts(policy.policy_name, policy.bpf_hosts);
        from_bpf = std::move(hosts.counts);
        taken_pins.push_back(std::move(hosts.pins));
        TakenClasses classes = take_bpf_classes(policy.policy_name, policy.bpf_classes);
        classes_from_bpf = std::move(classes.classes);
        taken_pins.push_back(std::move(classes.pins));
    }
    std::vector<DeclaredCounter> added;
    bool counters_only = current != nullptr && !dry_run && !recreating && egress.empty() &&
                         from_bpf.empty() && classes_from_bpf.empty() && !elements.changed &&
                         only_counters_change(*current, renamed, sets, live);
    if (counters_only && !plan.added.empty()) {
        const std::set<std::string> new_names(plan.added.begin(), plan.added.end());
        for (auto& counter : declared_counters(renamed)) {
            if (new_names.count(counter.name) != 0) {
                added.push_back(std::move(counter));
            }
        }
        counters_only = added.size() == new_names.size();
    }
    ReloadTransactions reload;
    HostsCarried hosts_carried;            // where from_bpf's counts went
    std::set<std::string> classes_carried; // the classes_from_bpf declared with their counts
    std::size_t attempt = 0;
    if (counters_only) {
        commit_counter_changes(netlink_, table, added, plan.removed);
        remember_counter_names(netlink_, table, wanted);
        record_origins_of_policy();
    }
    // A reload that changes only counting sets (a class moved, added or dropped in a large
    // classification) and the rules that look them up is one netlink transaction
    // (nft_element_swap.hpp): libnftables would parse the whole definition and the kernel
    // re-add every element of every kept set. When the kernel refuses it (nothing changed), the
    // reload below does it.
    bool swapped = false;
    if (!counters_only && current != nullptr && !dry_run && !recreating && egress.empty() &&
        from_bpf.empty() && classes_from_bpf.empty() && elements.changed) {
        if (auto swap = plan_element_swap(netlink_, table, *current, elements, sets, plan,
                                          declared_sets, renamed, live, policy.element_sets)) {
            try {
                commit_element_swap(netlink_, table, *swap);
                swapped = true;
                reload.cleanup = std::move(swap->cleanup);
                remember_counter_names(netlink_, table, wanted);
                record_chains(netlink_, table, renamed);
                record_origins_of_policy();
            } catch (const RuntimeError& error) {
                if (error.kind() != ErrorKind::rejected) {
                    throw;
                }
            }
        }
    }
    // A relabel re-declares its counters with values, in the commit: then all are declared.
    const std::set<std::string> quiet_counters =
        recreating ? std::set<std::string>{}
                   : std::set<std::string>(plan.kept.begin(), plan.kept.end());
    // A new table with large counting sets: their elements go as one libnftnl transaction with
    // the base chains' rules, after libnftables has loaded the rest (nft_new_table.hpp). Should
    // either step fail, the load below does it all (and reports the kernel's errors).
    bool filled = false;
    if (current == nullptr && !dry_run && egress.empty() && from_bpf.empty() &&
        classes_from_bpf.empty()) {
        if (const auto steps = new_table_steps(definition, policy.element_sets)) {
            bool loaded = false;
            try {
                run_transaction("table inet " + table + "\n" + steps->definition, table, false);
                loaded = true;
                test_kill_between_steps();
                fill_new_table(netlink_, table, *steps, policy.element_sets);
                filled = true;
                remember_counter_names(netlink_, table, wanted);
                record_chains(netlink_, table, renamed);
                record_origins_of_policy();
            } catch (const RuntimeError&) {
                if (loaded && !filled) {
                    delete_new_table(netlink_, table);
                }
                if (filled) {
                    throw;
                }
            }
        }
    }
    // Counters carried from BPF are declared with their values in the commit alone: a stage
    // that declared them first would leave them at zero (adding a counter again sets nothing).
    const bool may_stage = !dry_run && !recreating && classes_from_bpf.empty();
    bool stage = may_stage;
    while (!counters_only && !swapped && !filled) {
        const std::map<std::string, bool> no_sets;
        reload = reload_transactions(
            table, current, definition, plan.removed, attempts[attempt].keep_chains,
            attempts[attempt].keep_sets ? sets.keep : no_sets, live, stage, quiet_counters);
        bool staged = false;
        try {
            if (!reload.stage.empty()) {
                run_transaction(reload.stage, table, false);
                staged = true;
            }
            // The egress tables in the same commit: the forward chain marks what their chains
            // count and unmark, so one without the other must never be in the kernel.
            run_transaction(
                with_classes_from_bpf(
                    with_hosts_from_bpf(with_quota_relabels(with_relabels(std::move(reload.commit),
                                                                          table, relabels),
                                                            table, quota_relabels),
                                        renamed, table, from_bpf, hosts_carried),
                    table, policy.element_sets, elements.names, classes_from_bpf, classes_carried) +
                    elements.initial_values + egress,
                table, dry_run);
            if (!dry_run) {
                // Removed counters stay until the cleanup below: read by name with the rest.
                std::vector<std::string> present = wanted;
                present.insert(present.end(), plan.removed.begin(), plan.removed.end());
                remember_counter_names(netlink_, table, present);
                if (reload.renames) {
                    forget_chains(table); // until the cleanup gives the chains their names
                } else {
                    record_chains(netlink_, table, renamed);
                }
                record_origins_of_policy();
            }
            break;
        } catch (const RuntimeError& error) {
            if (staged) {
                try {
                    run_transaction(reload.unstage, table, false);
                } catch (const RuntimeError&) {
                    // Left unreferenced; the next reload deletes what it does not declare.
                }
            }
            const bool rejected =
                error.kind() == ErrorKind::rejected || error.kind() == ErrorKind::unsupported;
            if (stage && !reload.stage.empty() && rejected) {
                stage = false; // the same attempt once more in one transaction
                continue;
            }
            if (!rejected || attempt + 1 == attempts.size()) {
                throw;
            }
            ++attempt;
            stage = may_stage;
        }
    }
    for (TakenPins& pins : taken_pins) {
        pins.finish();
    }
    for (AppliedPins& pins : bpf_applied) {
        pins.finish();
    }
    const bool chains_recreated = !attempts[attempt].keep_chains;
    if (!attempts[attempt].keep_sets) {
        for (const auto& name : sets.kept) {
            sets.replaced.emplace_back(name, "the kernel refused to keep it as it is");
        }
        sets.kept.clear();
        std::sort(sets.replaced.begin(), sets.replaced.end());
    }
    if (!dry_run) {
        start_new_host_quotas(table, policy, sets.kept); // per-host quotas after a flush
    }

    ApplyReport report;
    report.table = table;
    report.dry_run = dry_run;
    report.created = !inventory.has_value();
    report.chains_recreated = chains_recreated;
    report.added = plan.added;
    report.sets_kept = sets.kept;
    for (const auto& counter : hosts_carried.moved) {
        report.hosts_moved.push_back(counter + " moved from BPF to nft sets");
    }
    report.hosts_dropped = hosts_carried.dropped;
    // Classes BPF counted that the commit declares with their counts are not new; the others
    // (a class gone from the policy) end with what BPF counted.
    std::erase_if(report.added,
                  [&](const std::string& name) { return classes_carried.count(name) != 0; });
    std::set<std::string> classifications_out;
    for (const auto& [name, taken] : classes_from_bpf) {
        if (classes_carried.count(name) != 0) {
            classifications_out.insert(taken.classify);
        } else {
            report.removed.push_back(reading_of(policy.policy_name, name, taken.counts.packets,
                                                taken.counts.bytes,
                                                decode_counter_comment(name, taken.comment)));
        }
    }
    for (const auto& classify : classifications_out) {
        report.classes_moved.push_back(classify + " moved from BPF to nft rules");
    }
    for (auto& [name, change] : sets.replaced) {
        const bool quota_set = std::any_of(
            policy.quotas.begin(), policy.quotas.end(), [&name = name](const auto& quota) {
                return std::find(quota.sets.begin(), quota.sets.end(), name) != quota.sets.end();
            });
        report.sets_replaced.push_back({name, change, quota_set});
    }
    // A retired counting set's counts go to carries: nothing is gone (no note).
    for (const auto& name : sets.removed) {
        if (std::find(elements.retired.begin(), elements.retired.end(), name) ==
            elements.retired.end()) {
            report.sets_removed.push_back(name);
        }
    }
    if (!dry_run && !reload.cleanup.empty()) {
        // What the commit left unreferenced may still be in use by packets running the old
        // rules; once none can be, the removed counters' values are final.
        wait_for_packet_path();
    }
    std::map<std::string, CounterReading> after;
    // Only kept and removed counters are reported with values: a new table needs no read.
    // Counters only: no rule that counts changed and the removed ones were unused, so the
    // values read with the inventory are those at the commit (origins as the policy declares).
    // A swap changed no rule that counts into an object either.
    const bool values_before = counters_only || swapped;
    if (values_before) {
        for (const auto& counter : policy.counters) {
            const auto found = before.find(counter.name);
            if (found != before.end()) {
                found->second.set_origin(counter.origin);
            }
        }
    } else if (!dry_run && !(plan.kept.empty() && plan.removed.empty())) {
        for (auto& reading : readings(table, false)) {
            after[reading.sample.counter] = std::move(reading);
        }
    }
    const auto& values = dry_run || values_before ? before : after;
    for (const auto& name : plan.kept) {
        report.kept.push_back(values.at(name));
    }
    // Host sets no rule counts in any more (a `split host` counter renamed or dropped) are
    // still in the table until the cleanup: their hosts' final counts are reported as a removed
    // counter's are, so that the period totals book what they counted since the last save.
    if (!dry_run && !reload.cleanup.empty() && !sets.removed.empty()) {
        const std::set<std::string> gone(sets.removed.begin(), sets.removed.end());
        const auto host_sets = dump_host_counters(
            netlink_, table, false, [&](const std::string& name) { return gone.count(name) != 0; });
        if (!host_sets.empty()) {
            for (auto& reading : with_host_readings({}, host_sets, policy.policy_name)) {
                report.removed.push_back(std::move(reading));
            }
        }
    }
    // Classes now counted by elements (their objects' counts carried below) are not removed.
    // Only a reload that removes counters or retires counting sets needs them (100,000 names).
    const bool carrying = !dry_run && !counters_only && !elements.retired.empty();
    std::set<std::string> element_names;
    if (!plan.removed.empty() || carrying) {
        for (const auto& counter : policy.element_counters) {
            element_names.insert(counter.name);
        }
    }
    std::vector<KernelCounter> carried_objects;
    for (const auto& name : plan.removed) {
        if (element_names.count(name) == 0) {
            report.removed.push_back(values.at(name));
        } else if (carried_objects.empty()) {
            for (auto& counter : read_table_counters(netlink_, table, false)) {
                if (element_names.count(counter.name) != 0) {
                    carried_objects.push_back(std::move(counter));
                }
            }
        }
    }
    // What the retired counting sets and those objects counted goes to their classes' carries
    // (nft_element_carry.hpp), in the cleanup's transaction, which deletes them: read now, with
    // no packet in the old rules any more, the values are final.
    std::string carry;
    if (carrying || (!dry_run && !counters_only && !carried_objects.empty())) {
        std::set<std::string> classes(wanted.begin(), wanted.end());
        classes.insert(element_names.begin(), element_names.end());
        const std::set<std::string> removed_objects(plan.removed.begin(), plan.removed.end());
        std::vector<KernelCounter> dropped;
        carry = carry_commands(netlink_, table, elements, carried_objects, classes,
                               policy.element_sets, dropped);
        for (const auto& counter : dropped) {
            if (removed_objects.count(counter.name) == 0) { // not reported with its object
                report.removed.push_back(reading_of(counter));
            }
        }
    }
    if (const std::string stale = dry_run ? "" : egress_cleanup(netlink_, policy.egress);
        !stale.empty()) {
        run_transaction(stale, table, false);
    }
    if (!dry_run && !reload.cleanup.empty()) {
        if (carry.empty()) {
            run_cleanup(netlink_, table, reload.cleanup);
        } else {
            run_transaction(cleanup_text(table, reload.cleanup) + carry, table, false);
        }
        remember_counter_names(netlink_, table, wanted);
        if (!swapped) {
            record_chains(netlink_, table, renamed); // staged chains have their names
        }
    }
    return report;
}

std::vector<CounterReading> NftBackend::counters(const std::string& policy, bool reset) {
    if (policy.empty()) {
        return every_policy(reset).readings;
    }
    std::optional<MutationLock> lock;
    if (reset) {
        lock.emplace();
    }
    const std::string table = table_for_policy(policy);
    require_table(policy, table);
    if (stopped_between_steps(netlink_, table)) {
        throw RuntimeError(ErrorKind::unknown_table,
                           not_loaded_message({BackendKind::nftables, policy, true}, netns_));
    }
    return readings(table, reset);
}

EveryPolicyReadings NftBackend::every_policy(bool reset) {
    std::optional<MutationLock> lock;
    if (reset) {
        lock.emplace();
    }
    // One dump per table: a reset must never touch counters of tables acctc does not own. Each
    // table's readings come sorted by counter and host; the tables by name, so by policy.
    EveryPolicyReadings result;
    for (const auto& table : acctc_tables(netlink_)) {
        // A table whose apply stopped half-way would read as counters at zero that count.
        if (stopped_between_steps(netlink_, table)) {
            result.unfinished.push_back(table.substr(table_prefix.size()));
            continue;
        }
        auto part = readings(table, reset);
        if (result.readings.empty()) {
            result.readings = std::move(part);
        } else {
            result.readings.insert(result.readings.end(), std::make_move_iterator(part.begin()),
                                   std::make_move_iterator(part.end()));
        }
    }
    return result;
}

RemoveReport NftBackend::remove(const std::string& policy) {
    const std::string table = table_for_policy(policy);
    MutationLock lock;
    try {
        require_table(policy, table);
    } catch (const RuntimeError& error) {
        if (error.kind() == ErrorKind::unknown_table) {
            // Flushed behind acctc's back: the BPF programs counting for the policy are pinned,
            // outlive its table and would go on counting (and cost every packet) for no one.
            remove_bpf_hosts(policy);
            remove_bpf_classes(policy);
            remove_bpf_wire(policy, BackendKind::nftables);
        }
        throw;
    }
    // Stop counting first so the values reported are the final ones.
    run_transaction("flush table inet " + table + "\n" + egress_removal(netlink_, table, "flush"),
                    table, false);
    wait_for_packet_path();
    RemoveReport report{table, readings(table, false)};
    run_transaction("delete table inet " + table + "\n" + egress_removal(netlink_, table, "delete"),
                    table, false);
    remove_bpf_hosts(policy);
    remove_bpf_classes(policy);
    remove_bpf_wire(policy, BackendKind::nftables);
    forget_counter_names(table);
    forget_chains(table);
    forget_origins(table);
    return report;
}

std::string NftBackend::live_ruleset(const std::string& policy) {
    const std::string table = table_for_policy(policy);
    if (!table_exists(netlink_, table)) {
        return {};
    }
    return normalised_listing(table, egress_tables(netlink_, table));
}

std::string NftBackend::planned_ruleset(const CompiledPolicy& policy) {
    // nft itself is the normaliser: load into an empty namespace of our own and list it back.
    // The egress tables load there too: a netdev chain may name a device that is missing.
    std::string text = policy.definition;
    std::vector<std::string> egress;
    for (const auto& table : policy.egress) {
        text += "table netdev " + table.table + "\n" + table.definition;
        egress.push_back(table.table);
    }
    const NetnsScope scratch = NetnsScope::isolated();
    run_transaction(text, policy.table_name, false);
    return normalised_listing(policy.table_name, egress);
}

} // namespace acctc::runtime
