// Data-path comparison: packets/s through the hook under test with no ruleset, with an empty
// base chain on that hook (the floor any nftables ruleset there pays), with acctc's ruleset,
// with the naive one-rule-per-class ruleset and (when the compiler has the backend) with
// acctc's iptables output (through iptables-restore as installed, iptables-nft here, and on
// request through iptables-legacy). All rulesets of a case are loaded once and switched by making
// their tables dormant (iptables-legacy: by an ACCEPT rule first in the built-in chain), so
// variants run interleaved, A/B, in every repetition.
#pragma once

#include "acctc/bench/bench_policy.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace acctc::bench {

// In the order the table shows them: the breakdown steps (acctc/bench/breakdown.hpp) between
// the empty chain and acctc's whole ruleset; for `split host` and element counters in parts,
// one_set is the same policy with one set per family or classification instead
// (CompileOptions::host_parts off, element_one_set_keys SIZE_MAX); for element counters in one
// set, parts is the same policy with its counting sets in parts (element_one_set_keys 0).
enum class Variant {
    baseline,
    empty_chain,
    compare,
    jump,
    dispatch,
    lookup,
    acctc,
    one_set,
    parts,
    naive,
    iptables,
    iptables_legacy,
    // hosts only, an experiment beside nft (acctc/runtime/bpf_host_counter.hpp): a TCX program on
    // the router's wan ingress counting per source address in a BPF map; bpf_empty returns at
    // once (what the hook and a program cost), the others are BpfHostMap's maps (generations:
    // the hash in two generations, for an exact reset).
    bpf_empty,
    bpf_hash,
    bpf_percpu_hash,
    bpf_lru_hash,
    bpf_hash_no_prealloc,
    bpf_hash_generations,
    // ports and protoport only, an experiment beside nft (acctc/runtime/bpf_port_counter.hpp): a
    // TCX program on the router's wan ingress adding each packet to its protocol's and
    // destination port's slot of an array map (bpf_empty beside it).
    bpf_ports,
    // hosts only: what acctc ships with `apply --hosts-in bpf` (docs/runtime.md, "Per-host
    // counters in BPF"): the policy's counter as `in via wan` (the eligible shape), applied by
    // the nft backend, its pinned link made and unpinned around each measurement.
    acctc_bpf
};
constexpr int variant_count = 20;
std::string to_string(Variant variant);

struct DatapathOptions {
    std::vector<ClassKind> kinds;
    std::vector<std::size_t> sizes;       // classes, for every kind but hosts
    std::vector<std::size_t> host_counts; // active hosts, for the hosts kind
    std::vector<int> ip_versions{4};      // the traffic's: 4, 6 or both (every case for each)
    unsigned repetitions = 41;
    std::chrono::milliseconds duration{50}; // per measurement
    std::uint64_t max_packets = 5'000'000;  // per measurement
    std::size_t flows = 16;
    // The CPU the generator runs on, and with it the whole veth forward path (softirq); -1
    // leaves it to the scheduler, whose migrations make single measurements bimodal.
    int cpu = -1;
    // Also measure acctc's iptables output loaded with iptables-legacy. Once created, the
    // legacy filter table stays hooked in the namespace until it goes away, so every variant
    // of the run then pays for its (empty) built-in chains: off by default.
    bool iptables_legacy = false;
    // The naive chain (one rule per class, walked by every packet) only up to this many classes.
    std::size_t naive_max_classes = SIZE_MAX;
};

// The highest-numbered CPU this process may run on: the usual choice for --cpu.
int last_allowed_cpu();

struct VariantResult {
    Variant variant = Variant::baseline;
    std::vector<double> pps;    // forwarded packets/s, one per repetition
    std::vector<double> ratios; // pps / baseline pps of the same repetition
    double median_pps = 0;
    double median_ratio = 0;
    // The fastest repetition over the baseline's fastest: what the path costs when nothing
    // else on the host interferes (shared CPUs make single runs up to 2x slower, at random).
    double best_pps = 0;
    double best_ratio = 0;
    // The same per second of the sender's CPU time (its thread, where veth runs the whole
    // forward path): what the path costs without the time other processes held that CPU.
    std::vector<double> cpu_pps;
    std::vector<double> cpu_ratios;
    double median_cpu_pps = 0;
    double median_cpu_ratio = 0;
    std::uint64_t sent = 0;      // over all repetitions
    std::uint64_t forwarded = 0; // over all repetitions
    std::uint64_t counted = 0;   // packets in the class counters (acctc, naive, iptables)
    std::uint64_t otherwise = 0; // packets in the otherwise counter: should be 0
    std::size_t classes_hit = 0; // distinct class counters that counted
    double load_seconds = 0;     // loading the ruleset (nft -f equivalent)
};

struct CaseResult {
    ClassKind kind = ClassKind::ports;
    std::size_t classes = 0;
    std::size_t flows = 0;
    int ip_version = 4; // of the traffic
    std::string hook;   // "forward" or "output"
    std::vector<VariantResult> variants;
};

struct DatapathReport {
    std::vector<CaseResult> cases;
    std::vector<std::string> notes;
};

// `progress` gets one line per finished case (for a terminal); may be empty.
DatapathReport run_datapath(const DatapathOptions& options,
                            const std::function<void(const std::string&)>& progress);

double median(std::vector<double> values);

} // namespace acctc::bench
