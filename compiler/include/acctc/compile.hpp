// The compiler's public entry point: policy text in, ruleset text out.
#pragma once

#include "acctc/bpf_class_plan.hpp"
#include "acctc/bpf_host_plan.hpp"
#include "acctc/bpf_wire_plan.hpp"
#include "acctc/diagnostics.hpp"
#include "acctc/quota_comment.hpp"
#include "acctc/source.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace acctc {

enum class Target { nft, iptables };

// An intermediate representation to print instead of the ruleset (docs/hacking: dumps).
enum class Dump { none, check, lower };

struct CompileOptions {
    Target target = Target::nft;
    Dump dump = Dump::none; // fills CompiledPolicy::dump
    // Where passwd, group and services are read from: /etc by default, another
    // directory when compiling for a different host (and for reproducible specs).
    std::filesystem::path etc_dir = "/etc";
    // nft: `split host` sets of more than 8,192 hosts as parts picked by a hash (docs/language.md,
    // "Per-host counters"). Off only for `acctc bench`'s comparison with one set.
    bool host_parts = true;
    // nft: a large classification of at most this many keys is one counting set, looked up
    // without a dispatch; a larger one is parts picked by a hash, so that a read dumps small
    // sets (docs/language.md, "Large classifications: element counters"). 0: always parts (the
    // kernel tests of the partition); SIZE_MAX: never (`acctc bench`'s one_set).
    std::size_t element_one_set_keys = 16384;
    // nft: count the `split host` counters a BPF program counts exactly (bpf_host_plan.hpp) in
    // BPF instead of nft sets: they leave the table and go to CompiledPolicy::bpf_hosts.
    bool bpf_hosts = false;
    // For a process that exits after this compile: the checked policy and the lowered table
    // are left to the exit instead of freed block by block (acctc/left_to_exit.hpp).
    bool leave_stages_to_exit = false;
    // With bpf_hosts: declared counters that stay in nft sets although eligible (where the
    // runtime found BPF unavailable for them: docs/runtime.md, "Per-host counters in BPF").
    std::set<std::string> nft_hosts;
    // nft: count the classifications a BPF program counts exactly (bpf_class_plan.hpp) in BPF
    // instead of nft rules: they leave the table and go to CompiledPolicy::bpf_classes.
    bool bpf_classes = false;
    // With bpf_classes: classifications (by name) that stay in nft rules although eligible
    // (where the runtime found BPF unavailable for them: docs/runtime.md, "Classes in BPF").
    std::set<std::string> nft_classes;
};

struct CompiledCounter {
    std::string name;   // the kernel object name, e.g. skype_tcp_in
    std::string origin; // "file:line" of the declaration
};

// What Target::iptables produces (docs/iptables.md): three texts loaded in this order.
struct IptablesPolicy {
    std::string ipset;  // `ipset -exist restore` input: peer sets; empty when there are none
    std::string v4;     // `iptables-restore --noflush` input
    std::string v6;     // `ip6tables-restore --noflush` input
    std::string prefix; // "acctc-<tag>-": every chain and ipset of the policy starts with it
    std::vector<std::pair<std::string, std::string>> counter_chains; // counter -> its chain
    std::vector<std::string> sets;                                   // ipset names
};

// Something in the policy that matches on a device with `via`.
struct DeviceUser {
    std::string name;   // "counter skype", "classify svc", "drop"
    std::string origin; // file:line
};

// A device named with `via` (after interface aliases; "eth*" is a wildcard) and its users.
struct DeviceUse {
    std::string device;
    std::vector<DeviceUser> users;
};

// A quota as apply needs it: what it sums and its kernel objects, so that an object created anew
// (after a flush, at boot) starts from what its counters counted this period (docs/periods.md).
struct CompiledQuota {
    std::string name;
    std::vector<std::string> counters; // kernel counter names (sorted), as the totals key them
    QuotaPeriod period = QuotaPeriod::month;
    unsigned start_day = 1;
    struct Object {
        std::string name;        // NAME or NAME_warn
        std::uint64_t bytes = 0; // its size: what it holds can never be more
    };
    std::vector<Object> objects{}; // none for a per-host quota
    // A per-host quota: its sets (NAME_quota_v4, _v6, _mac), each element's budget `limit`.
    bool per_host = false;
    std::vector<std::string> sets{};
    std::uint64_t limit = 0;
};

// What quota objects, and the hosts of per-host quota sets, start with when apply creates them
// (absent ones: 0).
struct QuotaStarts {
    std::map<std::string, std::uint64_t, std::less<>> objects; // object name -> bytes
    // set name -> host (as nft prints it) -> bytes
    std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>> hosts;
};

struct CompiledPolicy {
    std::string policy_name; // as declared by `policy NAME`
    std::string table_name;  // acctc_<policy>
    // nft: "table inet T\ndelete table inet T\n" so loading twice never fails.
    std::string preamble;
    // nft: the complete "table inet T { ... }" block.
    std::string definition;
    // What `acctc compile` prints: preamble + definition for nft; for iptables the ipset,
    // iptables and ip6tables texts one after the other, each after a "### <loader>" line.
    std::string text;
    std::optional<IptablesPolicy> iptables; // Target::iptables only
    std::vector<CompiledCounter> counters;  // counter objects
    // Counters counted by the elements of counting sets (a large classification's classes):
    // no object; the readers sum their elements (docs/runtime.md).
    std::vector<CompiledCounter> element_counters;
    // The sets that count them: a reload keeps each element that stays as it is (with its
    // count) and deletes those no longer wanted (docs/runtime.md).
    struct ElementSet {
        std::string name;
        std::vector<std::string> types; // nft's type of each key field
        struct Element {
            std::string key;     // as the kernel stores it (NFTA_DATA_VALUE)
            std::string counter; // the counter it counts for
            std::string comment; // the counter's name, a space, its comment (labels, origin)
        };
        std::vector<Element> elements;
    };
    std::vector<ElementSet> element_sets;
    // CompileOptions::dump: the checked policy or the lowered table as stable text.
    std::string dump;
    std::vector<std::string> chains;
    std::vector<std::string> sets;
    std::vector<DeviceUse> devices; // for apply's check that they exist
    std::vector<CompiledQuota> quotas;
    // Not the compiler's: apply fills it from the period totals before loading.
    QuotaStarts quota_starts;
    // nft: the netdev tables of the egress chains (what leaves, counted after fragmentation),
    // applied beside the inet table; their counters add to its counters of the same name.
    struct Egress {
        std::string device;
        std::string table;
        std::string preamble;
        std::string definition;
    };
    std::vector<Egress> egress;
    // CompileOptions::bpf_hosts: the per-host counters counted in BPF (not in the table).
    std::vector<BpfHostCounterPlan> bpf_hosts;
    // CompileOptions::bpf_hosts on iptables, which counts per host only in ipsets: the declared
    // counters that nft would count in BPF. They stay in ipsets; the CLI notes or refuses that.
    std::vector<std::string> bpf_hosts_unavailable;
    // CompileOptions::bpf_classes: the classifications counted in BPF. Their counters are not in
    // the table (nor in `counters` or `element_counters`); each plan names them.
    std::vector<BpfClassifyPlan> bpf_classes;
    // CompileOptions::bpf_classes on iptables, which counts only in its rules: the names of the
    // classifications nft would count in BPF. They stay rules; the CLI notes or refuses that.
    std::vector<std::string> bpf_classes_unavailable;
    // nft: the counters whose merged packets a TCX program corrects to the wire's counts.
    BpfWirePlan bpf_wire;
};

struct CompileResult {
    SourceFile source;
    Diagnostics diagnostics;
    std::optional<CompiledPolicy> output; // empty when diagnostics has errors
};

CompileResult compile_source(std::string display_name, std::string text,
                             const CompileOptions& options = {});

} // namespace acctc
