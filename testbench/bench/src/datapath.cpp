#include "acctc/bench/datapath.hpp"

#include "acctc/bench/bench_topology.hpp"
#include "acctc/bench/breakdown.hpp"
#include "acctc/bench/host_read_timing.hpp"
#include "acctc/bench/iptables_restore.hpp"
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/bpf_port_counter.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "acctc/testbench/private_bpffs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <net/if.h>
#include <optional>
#include <sched.h>
#include <set>
#include <sstream>
#include <stdexcept>
#include <sys/mount.h>
#include <thread>
#include <unistd.h>

namespace acctc::bench {
namespace {

using runtime::BpfPortCounter;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// How a variant's sets are laid out: as acctc compiles them, all in one set (`split host` and
// counting sets), or counting sets always in parts.
enum class SetLayout { as_compiled, one_set, parts };

CompiledPolicy compile_or_throw(const BenchPolicy& policy, Target target,
                                SetLayout layout = SetLayout::as_compiled) {
    CompileOptions options;
    options.target = target;
    if (layout == SetLayout::one_set) {
        options.host_parts = false;
        options.element_one_set_keys = SIZE_MAX;
    } else if (layout == SetLayout::parts) {
        options.element_one_set_keys = 0;
    }
    auto result = compile_source(policy.policy_name + ".acct", policy.source, options);
    if (!result.output) {
        std::ostringstream text;
        render_all(text, result.source, result.diagnostics);
        throw std::runtime_error("bench policy does not compile:\n" + text.str());
    }
    return std::move(*result.output);
}

std::string dormant(const std::string& table, bool asleep) {
    // A dormant table keeps its rules and counters but has no hooks registered: the packet
    // path is then exactly the one without the table.
    return "add table inet " + table + (asleep ? " { flags dormant; }\n" : "\n");
}

// iptables-nft keeps iptables' filter table as `table ip filter` (ip6tables-nft's: `table ip6
// filter`), hooks and all.
std::string dormant_iptables(bool ipv6, bool asleep) {
    return std::string("add table ") + (ipv6 ? "ip6" : "ip") + " filter" +
           (asleep ? " { flags dormant; }\n" : "\n");
}

// The program of the traffic's family: iptables or ip6tables, the -legacy ones on request.
std::string iptables_program(bool ipv6, bool legacy = false) {
    return std::string(ipv6 ? "ip6tables" : "iptables") + (legacy ? "-legacy" : "");
}

// The floor: a base chain on the hook acctc uses, at its priority, without a single rule.
std::string empty_chain_ruleset(const std::string& table, const BenchPolicy& policy) {
    const std::string hook = policy.output_hook ? "output" : "forward";
    return "table inet " + table + " {\n\tchain " + hook + " {\n\t\ttype filter hook " + hook +
           " priority filter - 10; policy accept;\n\t}\n}\n";
}

// Variants loaded from a text derived from acctc's, each in a table of its own.
bool is_step(Variant variant) {
    return variant == Variant::compare || variant == Variant::jump ||
           variant == Variant::dispatch || variant == Variant::lookup ||
           variant == Variant::one_set || variant == Variant::parts;
}

std::string step_table(Variant variant) {
    return "acctc_bench_step_" + to_string(variant);
}

// The compiled text with its table under another name (the `table`/`delete table` lines).
std::string renamed_table(const std::string& text, const std::string& from, const std::string& to) {
    std::string out;
    const std::string old_name = "table inet " + from;
    std::size_t at = 0;
    for (std::size_t found = text.find(old_name); found != std::string::npos;
         found = text.find(old_name, at)) {
        out.append(text, at, found - at);
        out += "table inet " + to;
        at = found + old_name.size();
    }
    return out + text.substr(at);
}

// Fills counted/otherwise/classes_hit from a variant's counters.
void read_check(VariantResult& result, const BenchPolicy& policy,
                const std::vector<runtime::CounterSample>& samples) {
    for (const auto& sample : samples) {
        if (sample.counter == policy.rest_counter) {
            result.otherwise += sample.packets;
        } else if (sample.packets > 0) {
            result.counted += sample.packets;
            ++result.classes_hit;
        }
    }
}

// The BPF variants and the map each counts in.
constexpr std::pair<Variant, BpfHostMap> bpf_variants[] = {
    {Variant::bpf_empty, BpfHostMap::none},
    {Variant::bpf_hash, BpfHostMap::hash},
    {Variant::bpf_percpu_hash, BpfHostMap::percpu_hash},
    {Variant::bpf_lru_hash, BpfHostMap::lru_hash},
    {Variant::bpf_hash_no_prealloc, BpfHostMap::hash_no_prealloc},
    {Variant::bpf_hash_generations, BpfHostMap::hash_generations}};

// The same from a BPF variant's maps: every host counted, the overflow as `otherwise`.
void bpf_check(VariantResult& result, const BpfHostCounts& counts) {
    for (const auto& host : counts.hosts) {
        result.counted += host.packets;
        result.classes_hit += host.packets > 0 ? 1 : 0;
    }
    result.otherwise += counts.overflow_packets;
}

// The same from the port slots: each slot a packet of the bench's (UDP) flows reached is a
// class hit, the last slot (no ports) is `otherwise`.
void bpf_ports_check(VariantResult& result, const std::vector<BpfPortCounter::Slot>& slots) {
    for (std::size_t i = 0; i < slots.size(); ++i) {
        if (i == BpfPortCounter::other) {
            result.otherwise += slots[i].packets;
        } else if (slots[i].packets > 0) {
            result.counted += slots[i].packets;
            ++result.classes_hit;
        }
    }
}

std::vector<runtime::CounterSample> iptables_samples(const std::string& policy,
                                                     const std::string& netns,
                                                     runtime::IptablesVariant variant) {
    std::vector<runtime::CounterSample> out;
    for (auto& reading : runtime::make_iptables_backend(netns, variant)->counters(policy, false)) {
        out.push_back(std::move(reading.sample));
    }
    return out;
}

class CaseRunner {
  public:
    CaseRunner(BenchTopology& topology, const DatapathOptions& options, const BenchPolicy& policy,
               std::vector<std::string>& notes)
        : topology_(topology), options_(options), policy_(policy),
          node_(policy.output_hook ? BenchTopology::sender : BenchTopology::router),
          ipv6_(!policy.flows.empty() && !policy.flows.front().source.is_v4()) {
        const auto compiled = compile_or_throw(policy, compiled_target());
        acctc_table_ = compiled.table_name;
        naive_table_ = "acctc_" + policy.naive_policy;
        load(Variant::empty_chain, empty_chain_ruleset(floor_table_, policy), floor_table_);
        load(Variant::acctc, compiled.text, acctc_table_);
        if (const auto steps = breakdown_rulesets(compiled.text)) {
            for (const auto& [variant, text] : {std::pair{Variant::compare, &steps->compare},
                                                std::pair{Variant::jump, &steps->jump},
                                                std::pair{Variant::dispatch, &steps->dispatch},
                                                std::pair{Variant::lookup, &steps->lookup}}) {
                if (!text->empty()) {
                    load_step(variant, *text);
                }
            }
            // Parts against one set: the same policy compiled the other way.
            if (!steps->dispatch.empty()) {
                load_step(Variant::one_set,
                          compile_or_throw(policy, compiled_target(), SetLayout::one_set).text);
            } else if (!compiled.element_counters.empty()) {
                load_step(Variant::parts,
                          compile_or_throw(policy, compiled_target(), SetLayout::parts).text);
            }
        }
        if (!policy.naive_ruleset.empty() && policy.classes <= options.naive_max_classes) {
            load(Variant::naive, policy.naive_ruleset, naive_table_);
        }
        // Loaded with iptables-restore as installed, like the iptables backend does.
        std::optional<CompiledPolicy> iptables;
        try {
            iptables = compile_or_throw(
                policy, runtime::backend_info(runtime::BackendKind::iptables).target);
        } catch (const std::runtime_error& error) {
            notes.push_back("iptables variant of " + to_string(policy.kind) +
                            " skipped: the policy does not compile for iptables");
        }
        const std::string* half = !iptables || !iptables->iptables ? nullptr
                                  : ipv6_                          ? &iptables->iptables->v6
                                                                   : &iptables->iptables->v4;
        if (!iptables) {
            // Noted above.
        } else if (half && !half->empty()) {
            // Only the half of the traffic's family is loaded (iptables-restore for IPv4,
            // ip6tables-restore for IPv6), after the ipsets its rules name (split host). On
            // this host iptables is iptables-nft, so its rules live in `table ip filter` (ip6),
            // which is switched on and off like the nft tables.
            const auto start = Clock::now();
            try {
                if (!iptables->iptables->ipset.empty()) {
                    ipset_restore(topology_.netns(node_), iptables->iptables->ipset);
                    iptables_sets_ = iptables->iptables->sets;
                }
                iptables_restore(topology_.netns(node_), *half, iptables_program(ipv6_));
                results_[Variant::iptables].variant = Variant::iptables;
                results_[Variant::iptables].load_seconds = seconds_since(start);
                iptables_loaded_ = true;
                topology_.nft(node_, dormant_iptables(ipv6_, true));
                if (options.iptables_legacy) {
                    const auto legacy_start = Clock::now();
                    iptables_restore(topology_.netns(node_), *half, legacy());
                    results_[Variant::iptables_legacy].variant = Variant::iptables_legacy;
                    results_[Variant::iptables_legacy].load_seconds = seconds_since(legacy_start);
                    legacy_loaded_ = true;
                    activate(Variant::iptables_legacy, false);
                }
            } catch (const std::runtime_error& error) {
                // The other variants are still worth measuring (100,000 classes: timed out).
                notes.push_back("iptables variant of " + to_string(policy.kind) + " " +
                                std::to_string(policy.classes) + " skipped after " +
                                std::to_string(seconds_since(start)) + " s: " + error.what());
                try {
                    iptables_flush(topology_.netns(node_), iptables_program(ipv6_));
                } catch (const std::runtime_error&) {
                    // Left for the namespace's removal.
                }
            }
        } else if (std::find_if(notes.begin(), notes.end(), [](const std::string& note) {
                       return note.rfind("iptables", 0) == 0;
                   }) == notes.end()) {
            notes.push_back("iptables variant skipped: this build's compiler has no iptables "
                            "backend (--target iptables)");
        }
        if (policy.kind == ClassKind::hosts) {
            load_bpf(notes);
            load_acctc_bpf(notes);
        }
        if (policy.kind == ClassKind::ports || policy.kind == ClassKind::protoport) {
            load_bpf_ports(notes);
            load_acctc_bpf(notes);
        }
        if (policy.kind == ClassKind::networks) {
            load_acctc_bpf(notes);
        }
        results_[Variant::baseline].variant = Variant::baseline;
    }
    CaseRunner(const CaseRunner&) = delete;
    CaseRunner& operator=(const CaseRunner&) = delete;
    ~CaseRunner() {
        try {
            std::string tables =
                "delete table inet " + acctc_table_ + "\ndelete table inet " + floor_table_ + "\n";
            for (const auto& [variant, result] : results_) {
                if (variant == Variant::naive) {
                    tables += "delete table inet " + naive_table_ + "\n";
                } else if (is_step(variant)) {
                    tables += "delete table inet " + step_table(variant) + "\n";
                }
            }
            topology_.nft(node_, tables);
            if (acctc_bpf_) {
                runtime::make_backend(runtime::BackendKind::nftables, topology_.netns(node_).name())
                    ->remove(acctc_bpf_->policy_name);
            }
            acctc_bpf_root_.reset(); // mounted in the bench's own mount namespace only
            if (iptables_loaded_) {
                topology_.nft(node_, dormant_iptables(ipv6_, false));
                try {
                    iptables_flush(topology_.netns(node_), iptables_program(ipv6_));
                } catch (const std::runtime_error&) {
                    // Left for the namespace's removal.
                }
            }
            if (legacy_loaded_) {
                iptables_flush(topology_.netns(node_), legacy());
            }
            if (!iptables_sets_.empty()) {
                // The split host ipsets, once no rule names them.
                ipset_destroy(topology_.netns(node_), iptables_sets_);
            }
        } catch (const std::exception&) {
            // The namespaces go away with the topology anyway.
        }
    }

    CaseResult run() {
        std::vector<Variant> order;
        for (const auto& [variant, result] : results_) {
            order.push_back(variant);
        }
        measure(Variant::baseline, std::chrono::milliseconds(50)); // warm caches, not kept
        if (policy_.kind == ClassKind::hosts) {
            // Every host in the set before the first measurement: what is measured is counting
            // hosts already known, as on a LAN that has been up for a while. The iptables
            // variants share their ipsets: one fill serves both.
            for (const Variant variant :
                 {Variant::lookup, Variant::acctc, Variant::one_set, Variant::iptables,
                  Variant::bpf_hash, Variant::bpf_percpu_hash, Variant::bpf_lru_hash,
                  Variant::bpf_hash_no_prealloc, Variant::bpf_hash_generations,
                  Variant::acctc_bpf}) {
                if (results_.count(variant) != 0) {
                    measure(variant, std::chrono::seconds(10), 2 * policy_.flows.size());
                }
            }
        }
        for (unsigned rep = 0; rep < options_.repetitions; ++rep) {
            std::map<Variant, Rates> rates;
            // Rotating the order each repetition spreads drift in the machine's load evenly.
            for (std::size_t k = 0; k < order.size(); ++k) {
                const Variant variant = order[(k + rep) % order.size()];
                rates[variant] = measure(variant, options_.duration);
            }
            const Rates base = rates[Variant::baseline];
            for (auto& [variant, result] : results_) {
                result.pps.push_back(rates[variant].pps);
                result.ratios.push_back(base.pps > 0 ? rates[variant].pps / base.pps : 0);
                result.cpu_pps.push_back(rates[variant].cpu_pps);
                result.cpu_ratios.push_back(base.cpu_pps > 0 ? rates[variant].cpu_pps / base.cpu_pps
                                                             : 0);
            }
        }
        const std::string netns = topology_.netns(node_).name();
        read_check(results_[Variant::acctc], policy_,
                   runtime::read_counters(policy_.policy_name, netns));
        if (results_.count(Variant::naive) != 0) {
            read_check(results_[Variant::naive], policy_,
                       runtime::read_counters(policy_.naive_policy, netns));
        }
        for (const Variant other_layout : {Variant::one_set, Variant::parts}) {
            if (results_.count(other_layout) != 0) {
                // The policy of table acctc_<policy>: the step's table, less the prefix.
                read_check(
                    results_[other_layout], policy_,
                    runtime::read_counters(
                        step_table(other_layout).substr(std::string("acctc_").size()), netns));
            }
        }
        if (iptables_loaded_) {
            read_check(results_[Variant::iptables], policy_,
                       iptables_samples(policy_.policy_name, netns, runtime::IptablesVariant::nft));
        }
        if (legacy_loaded_) {
            read_check(
                results_[Variant::iptables_legacy], policy_,
                iptables_samples(policy_.policy_name, netns, runtime::IptablesVariant::legacy));
        }
        for (const auto& [variant, counter] : bpf_) {
            bpf_check(results_[variant], counter->read());
        }
        if (bpf_ports_) {
            bpf_ports_check(results_[Variant::bpf_ports], bpf_ports_->read());
        }
        if (acctc_bpf_) {
            // The overflow counter is the policy's rest counter, as for nft.
            read_check(results_[Variant::acctc_bpf], policy_,
                       runtime::read_counters(acctc_bpf_->policy_name, netns));
        }
        CaseResult result;
        result.kind = policy_.kind;
        result.classes = policy_.classes;
        result.flows = policy_.flows.size();
        result.ip_version = ipv6_ ? 6 : 4;
        result.hook = policy_.output_hook ? "output" : "forward";
        for (auto& [variant, variant_result] : results_) {
            variant_result.median_pps = median(variant_result.pps);
            variant_result.median_ratio = median(variant_result.ratios);
            variant_result.median_cpu_pps = median(variant_result.cpu_pps);
            variant_result.median_cpu_ratio = median(variant_result.cpu_ratios);
            variant_result.best_pps =
                *std::max_element(variant_result.pps.begin(), variant_result.pps.end());
        }
        const double best_baseline = results_[Variant::baseline].best_pps;
        for (auto& [variant, variant_result] : results_) {
            variant_result.best_ratio =
                best_baseline > 0 ? variant_result.best_pps / best_baseline : 0;
            result.variants.push_back(variant_result);
        }
        return result;
    }

  private:
    static Target compiled_target() {
        return runtime::backend_info(runtime::BackendKind::nftables).target;
    }

    // The BPF variants: programs and maps loaded now, attached to the router's wan ingress only
    // while measured. A kernel without TCX or BPF rights skips them with a note.
    void load_bpf(std::vector<std::string>& notes) {
        testbench::ScopedNetns inside(topology_.netns(node_));
        wan_ifindex_ =
            static_cast<int>(::if_nametoindex(topology_.addressing().wan_interface.c_str()));
        // Room for every host the nft set takes (the bench's set is sized twice the hosts).
        const auto max_hosts = static_cast<std::uint32_t>(2 * max_classes(ClassKind::hosts));
        for (const auto& [variant, map] : bpf_variants) {
            const auto start = Clock::now();
            try {
                auto counter = std::make_unique<BpfHostCounter>(map, max_hosts);
                counter->attach(wan_ifindex_); // tried once: TCX is there
                counter->detach();
                bpf_[variant] = std::move(counter);
                results_[variant].variant = variant;
                results_[variant].load_seconds = seconds_since(start);
            } catch (const std::exception& error) {
                notes.push_back("bpf variant " + to_string(variant) + " skipped: " + error.what());
            }
        }
    }

    // bpf_ports, with bpf_empty beside it: a program on the router's wan ingress, attached only
    // while measured. A kernel without TCX or BPF rights skips them with a note.
    void load_bpf_ports(std::vector<std::string>& notes) {
        testbench::ScopedNetns inside(topology_.netns(node_));
        wan_ifindex_ =
            static_cast<int>(::if_nametoindex(topology_.addressing().wan_interface.c_str()));
        const auto start = Clock::now();
        try {
            auto empty = std::make_unique<BpfHostCounter>(BpfHostMap::none, 1);
            empty->attach(wan_ifindex_); // tried once: TCX is there
            empty->detach();
            bpf_[Variant::bpf_empty] = std::move(empty);
            results_[Variant::bpf_empty].variant = Variant::bpf_empty;
            bpf_ports_ = std::make_unique<BpfPortCounter>();
            results_[Variant::bpf_ports].variant = Variant::bpf_ports;
            results_[Variant::bpf_ports].load_seconds = seconds_since(start);
        } catch (const std::exception& error) {
            notes.push_back(std::string("bpf variants skipped: ") + error.what());
        }
    }

    // acctc_bpf: acctc's own BPF counting, applied as `apply --hosts-in bpf` (the hosts counter
    // in its eligible shape) or `--classes-in bpf` (the classification of ports or networks, as
    // it is), in a private mount namespace of the bench's own with a bpffs of its own (nothing
    // pinned on the host).
    void load_acctc_bpf(std::vector<std::string>& notes) {
        const auto start = Clock::now();
        try {
            // acctc mounts no bpffs itself (bpf.hpp): the bench mounts its own, as the test bench.
            acctc_bpf_root_.emplace();
            const std::filesystem::path root = std::getenv("ACCTC_BPF_ROOT");
            const bool hosts = policy_.kind == ClassKind::hosts;
            BenchPolicy eligible = policy_;
            eligible.policy_name = hosts ? "bench_hosts_bpf" : "bench_classes_bpf";
            if (hosts) {
                eligible.source.replace(eligible.source.find("forward in via"),
                                        std::string("forward in via").size(), "in via");
            }
            eligible.source.replace(eligible.source.find(policy_.policy_name),
                                    policy_.policy_name.size(), eligible.policy_name);
            CompileOptions options;
            options.bpf_hosts = hosts;
            options.bpf_classes = !hosts;
            auto result = compile_source(eligible.policy_name + ".acct", eligible.source, options);
            if (!result.output || (hosts ? result.output->bpf_hosts.size()
                                         : result.output->bpf_classes.size()) != 1) {
                throw std::runtime_error(hosts ? "the hosts counter is not counted in BPF"
                                               : "the classification is not counted in BPF");
            }
            acctc_bpf_ = std::move(*result.output);
            activate(Variant::acctc_bpf, true);
            for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
                if (entry.path().filename() == "link") {
                    acctc_bpf_link_ = entry.path();
                }
            }
            activate(Variant::acctc_bpf, false);
            results_[Variant::acctc_bpf].variant = Variant::acctc_bpf;
            results_[Variant::acctc_bpf].load_seconds = seconds_since(start);
        } catch (const std::exception& error) {
            acctc_bpf_.reset();
            notes.push_back(std::string("acctc_bpf variant skipped: ") + error.what());
        }
    }

    // acctc's text with another table name, in that variant's table.
    void load_step(Variant variant, const std::string& text) {
        const std::string table = step_table(variant);
        load(variant, renamed_table(text, acctc_table_, table), table);
    }

    void load(Variant variant, const std::string& text, const std::string& table) {
        const auto start = Clock::now();
        topology_.nft(node_, text);
        results_[variant].variant = variant;
        results_[variant].load_seconds = seconds_since(start);
        topology_.nft(node_, dormant(table, true));
    }

    void activate(Variant variant, bool on) {
        switch (variant) {
        case Variant::baseline:
            break;
        case Variant::empty_chain:
            topology_.nft(node_, dormant(floor_table_, !on));
            break;
        case Variant::acctc:
            topology_.nft(node_, dormant(acctc_table_, !on));
            break;
        case Variant::naive:
            topology_.nft(node_, dormant(naive_table_, !on));
            break;
        case Variant::compare:
        case Variant::jump:
        case Variant::dispatch:
        case Variant::lookup:
        case Variant::one_set:
        case Variant::parts:
            topology_.nft(node_, dormant(step_table(variant), !on));
            break;
        case Variant::iptables:
            topology_.nft(node_, dormant_iptables(ipv6_, !on));
            break;
        case Variant::bpf_empty:
        case Variant::bpf_hash:
        case Variant::bpf_percpu_hash:
        case Variant::bpf_lru_hash:
        case Variant::bpf_hash_no_prealloc:
        case Variant::bpf_hash_generations:
            if (on) {
                testbench::ScopedNetns inside(topology_.netns(node_));
                bpf_.at(variant)->attach(wan_ifindex_);
            } else {
                bpf_.at(variant)->detach();
            }
            break;
        case Variant::bpf_ports:
            if (on) {
                testbench::ScopedNetns inside(topology_.netns(node_));
                bpf_ports_->attach(wan_ifindex_);
            } else {
                bpf_ports_->detach();
            }
            break;
        case Variant::acctc_bpf:
            // On: apply (the maps are kept, a new link made); off: the link unpinned (it
            // detaches with its last reference), the maps and counts stay.
            if (on) {
                runtime::make_backend(runtime::BackendKind::nftables, topology_.netns(node_).name())
                    ->apply(*acctc_bpf_, false);
            } else if (!acctc_bpf_link_.empty()) {
                ::unlink(acctc_bpf_link_.c_str());
            }
            break;
        case Variant::iptables_legacy:
            // The legacy table cannot sleep: an ACCEPT first in the built-in chain skips acctc's
            // jump while the variant is off.
            iptables_command(
                topology_.netns(node_), legacy(),
                on ? std::vector<std::string>{"-D", builtin_chain(), "1"}
                   : std::vector<std::string>{"-I", builtin_chain(), "1", "-j", "ACCEPT"});
            break;
        }
    }

    // Forwarded packets per second of the sending time, and per second of the sender's CPU time.
    struct Rates {
        double pps = 0;
        double cpu_pps = 0;
    };

    Rates measure(Variant variant, std::chrono::milliseconds duration,
                  std::uint64_t max_packets = 0) {
        GeneratorSpec spec;
        spec.flows = policy_.flows;
        spec.max_time = duration;
        spec.max_packets = max_packets > 0 ? max_packets : options_.max_packets;
        // A measurement sends fewer packets than there are hosts: each starts elsewhere.
        spec.first_flow = ++measurements_ * 7919 % policy_.flows.size();
        spec.cpu = options_.cpu;
        activate(variant, true);
        const std::uint64_t before = topology_.forwarded_packets();
        const auto sent = run_udp_generator(topology_.netns(BenchTopology::sender), spec);
        // Softirq work deferred to ksoftirqd finishes within a few milliseconds.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const std::uint64_t forwarded = topology_.forwarded_packets() - before;
        activate(variant, false);
        auto& result = results_[variant];
        result.sent += sent.sent;
        result.forwarded += forwarded;
        const auto per_second = [&](double seconds) {
            return seconds > 0 ? static_cast<double>(forwarded) / seconds : 0;
        };
        return {per_second(sent.seconds), per_second(sent.cpu_seconds)};
    }

    BenchTopology& topology_;
    const DatapathOptions& options_;
    const BenchPolicy& policy_;
    std::string node_;
    std::string acctc_table_;
    std::string naive_table_;
    std::string floor_table_ = "acctc_bench_floor";
    bool ipv6_ = false;
    bool iptables_loaded_ = false;
    bool legacy_loaded_ = false;
    std::vector<std::string> iptables_sets_; // ipsets the iptables variants loaded
    std::string legacy() const { return iptables_program(ipv6_, true); }
    const char* builtin_chain() const { return policy_.output_hook ? "OUTPUT" : "FORWARD"; }
    std::size_t measurements_ = 0;
    std::map<Variant, VariantResult> results_;
    std::map<Variant, std::unique_ptr<BpfHostCounter>> bpf_;
    std::unique_ptr<BpfPortCounter> bpf_ports_;
    int wan_ifindex_ = 0;
    std::optional<CompiledPolicy> acctc_bpf_;
    std::filesystem::path acctc_bpf_link_;
    std::optional<testbench::PrivateBpffs> acctc_bpf_root_; // the bpffs the variant pins in
};

} // namespace

std::string to_string(Variant variant) {
    switch (variant) {
    case Variant::baseline:
        return "baseline";
    case Variant::empty_chain:
        return "empty_chain";
    case Variant::acctc:
        return "acctc";
    case Variant::compare:
        return "compare";
    case Variant::jump:
        return "jump";
    case Variant::dispatch:
        return "dispatch";
    case Variant::lookup:
        return "lookup";
    case Variant::one_set:
        return "one_set";
    case Variant::parts:
        return "parts";
    case Variant::naive:
        return "naive";
    case Variant::iptables:
        return "iptables";
    case Variant::iptables_legacy:
        return "iptables_legacy";
    case Variant::bpf_empty:
        return "bpf_empty";
    case Variant::bpf_hash:
        return "bpf_hash";
    case Variant::bpf_percpu_hash:
        return "bpf_percpu_hash";
    case Variant::bpf_lru_hash:
        return "bpf_lru_hash";
    case Variant::bpf_hash_no_prealloc:
        return "bpf_hash_no_prealloc";
    case Variant::bpf_hash_generations:
        return "bpf_hash_generations";
    case Variant::bpf_ports:
        return "bpf_ports";
    case Variant::acctc_bpf:
        return "acctc_bpf";
    }
    return "?";
}

int last_allowed_cpu() {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (::sched_getaffinity(0, sizeof cpus, &cpus) != 0) {
        return -1;
    }
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0; --cpu) {
        if (CPU_ISSET(cpu, &cpus)) {
            return cpu;
        }
    }
    return -1;
}

double median(std::vector<double> values) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const std::size_t middle = values.size() / 2;
    return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

namespace {
const std::string ipv6_note = "IPv6 traffic: 115-byte packets (the same UDP payload behind a "
                              "40-byte header); the iptables variants load the ip6tables half";
} // namespace

DatapathReport run_datapath(const DatapathOptions& options,
                            const std::function<void(const std::string&)>& progress) {
    DatapathReport report;
    BenchTopology topology(testbench::RunPrefix::current());
    for (const int version : options.ip_versions) {
        if (version == 6 &&
            std::find(report.notes.begin(), report.notes.end(), ipv6_note) == report.notes.end()) {
            report.notes.push_back(ipv6_note);
        }
        for (const auto kind : options.kinds) {
            for (const auto size : kind == ClassKind::hosts ? options.host_counts : options.sizes) {
                if (size > max_classes(kind)) {
                    report.notes.push_back(to_string(kind) + " with " + std::to_string(size) +
                                           " classes skipped: at most " +
                                           std::to_string(max_classes(kind)) + " distinct keys");
                    continue;
                }
                const auto policy = make_bench_policy(kind, size, topology.addressing(),
                                                      options.flows, version == 6);
                CaseRunner runner(topology, options, policy, report.notes);
                report.cases.push_back(runner.run());
                if (progress) {
                    std::ostringstream line;
                    line << to_string(kind) << " " << size << " IPv" << version << ":";
                    for (const auto& variant : report.cases.back().variants) {
                        line << " " << to_string(variant.variant) << " "
                             << static_cast<long long>(variant.median_pps) << " pps";
                        if (variant.variant != Variant::baseline) {
                            line << " (" << variant.median_ratio << ", best " << variant.best_ratio
                                 << ")";
                        }
                    }
                    progress(line.str());
                }
            }
        }
    }
    return report;
}

} // namespace acctc::bench
