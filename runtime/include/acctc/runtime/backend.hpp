// The seam between the CLI and a kernel backend, and the one table of backends acctc has.
#pragma once

#include "acctc/compile.hpp"
#include "acctc/runtime/backend_kind.hpp"
#include "acctc/runtime/counter_sample.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

// A counter as the kernel holds it, with the policy line it came from (its comment).
struct CounterReading {
    CounterSample sample;
    // "file:line", empty when the kernel object has no comment.
    const std::string& origin() const { return sample.what().origin; }
    // Declared at `origin` instead: a description of its own when that is another one.
    void set_origin(const std::string& origin);
};

// The reading of kernel counter `name` of `policy` with the identity its comment gave.
CounterReading reading_of(std::string policy, std::string name, std::uint64_t packets,
                          std::uint64_t bytes, CounterIdentity identity);

struct ApplyReport {
    std::string table;
    bool dry_run = false;
    bool created = false; // the table did not exist before
    // The table was there half-loaded by an apply that stopped between its two steps (counting
    // nothing): it was deleted and loaded anew.
    bool unfinished_replaced = false;
    // Chains had to be re-created (a hook or priority changed): a packet crossing the base
    // chains at the moment of the switch may have been counted by both versions or by neither.
    bool chains_recreated = false;
    std::vector<CounterReading> kept;    // surviving counters with their values
    std::vector<std::string> added;      // new counters, starting at zero
    std::vector<CounterReading> removed; // final values of counters that disappeared

    // Named sets and maps. Kept ones were re-added in place with their elements (what the
    // packet path added, with the time left on each); replaced ones changed their type, flags,
    // timeout or another setting and were re-created in the commit, so elements the packet
    // path had added are gone; removed ones were deleted after the commit.
    struct ReplacedSet {
        std::string name;
        std::string change; // e.g. "timeout 1h -> 2h"
        // A per-host quota set (NAME_quota_v4, ...): its hosts start again from what they
        // used in the period's totals, as after a flush.
        bool quota_use_restored = false;
    };
    std::vector<std::string> sets_kept;
    std::vector<ReplacedSet> sets_replaced;
    std::vector<std::string> sets_removed;
    // Per-host counters that moved between nft sets and BPF programs (docs/runtime.md, "Per-host
    // counters in BPF"), each host with its counts, as "COUNTER: nft sets -> BPF" or "COUNTER:
    // BPF -> nft sets"; and BPF counters whose hosts' counts had nowhere to go (the counter is
    // gone from the policy).
    std::vector<std::string> hosts_moved;
    std::vector<std::string> hosts_dropped;
    // Classifications that moved between nft rules and a BPF program (docs/runtime.md, "Classes
    // in BPF"), every class with its counts: "NAME moved from nft rules to BPF" or back.
    std::vector<std::string> classes_moved;
    // nft: why the counters CompiledPolicy::bpf_wire plans to correct count merged packets
    // instead (no BPF, no TCX, a device missing: docs/counting.md); none when corrected.
    std::optional<std::string> wire_fallback{};
    // Counters whose counts live in pinned BPF maps (per-host counters counted in BPF, their
    // overflow): a table created anew does not restart them, so their baselines in the period
    // totals stay (else the next save booked everything they held again).
    std::vector<std::string> pinned_counters;
};

// One line per replaced or removed set for the user, e.g. "note: set peers_v4 was re-created
// (timeout 1h -> 2h); the elements it held are gone", with "would be" for a dry run; for a
// per-host quota set "...; its hosts' use is restored from the period's totals"; one per
// per-host counter that moved between nft sets and BPF, or whose BPF counts are gone.
std::vector<std::string> set_change_notes(const ApplyReport& report);

struct RemoveReport {
    std::string table;
    std::vector<CounterReading> final_counters;
};

// A read of every policy a backend holds (Backend::every_policy).
struct EveryPolicyReadings {
    std::vector<CounterReading> readings; // sorted by policy, then counter
    // Policies not read because their apply stopped half-way (killed between the two steps of a
    // new nft table, nft_new_table.hpp): loaded, but counting nothing until the next apply or
    // remove. Found by the look at each table that skips them: a read dumps each table's chains
    // once.
    std::vector<std::string> unfinished;
};

class Backend {
  public:
    virtual ~Backend() = default;
    // Loads the policy in one atomic transaction, keeping surviving counters' values.
    virtual ApplyReport apply(const CompiledPolicy& policy, bool dry_run) = 0;
    // Empty policy: all acctc policies (every_policy's readings). reset lists and zeroes
    // atomically. A policy whose apply stopped half-way (EveryPolicyReadings::unfinished) is not
    // read: named, it is ErrorKind::unknown_table.
    virtual std::vector<CounterReading> counters(const std::string& policy, bool reset) = 0;
    // Every policy's counters, as counters({}, reset), and the half-loaded policies it skipped.
    // Pure, so that a wrapper or a new backend cannot silently answer "none unfinished".
    virtual EveryPolicyReadings every_policy(bool reset) = 0;
    // Deletes the policy's table and reports its counters' final values.
    virtual RemoveReport remove(const std::string& policy) = 0;
    // The policy's ruleset as loaded, normalised for diffing (no counter values).
    virtual std::string live_ruleset(const std::string& policy) = 0;
    // What the compiled policy would look like once loaded, normalised the same way.
    virtual std::string planned_ruleset(const CompiledPolicy& policy) = 0;
};

struct BackendInfo {
    BackendKind kind;
    // As --backend names it, and as the record of applied policies stores it.
    std::string_view name;
    Target target;            // what `acctc compile` emits for it
    std::string_view holder;  // what holds one policy, for messages: "table", "chains"
    std::string_view flushed; // what removes it behind acctc's back, for messages
    std::string_view summary; // one line for --help and the manual
    // The runtime side (apply, counters with atomic reset, remove, live and planned
    // rulesets): netns as for make_backend.
    std::unique_ptr<Backend> (*make)(const std::string& netns);
};

// The table, in the order help texts and listings use.
std::span<const BackendInfo> backends();
const BackendInfo& backend_info(BackendKind kind);
// nullptr when no backend has that name.
const BackendInfo* backend_named(std::string_view name);
// "nft, iptables, iptables-legacy or iptables-nft", from the table.
std::string backend_names(std::string_view last_separator = " or ");

// The backend the kernel holds a policy of `kind` in: `iptables` (the programs as installed) is
// iptables-nft or iptables-legacy, as `iptables-restore -V` says (asked once per process; kept
// when it does not say); every other kind is itself. What acctc records of a policy (applied
// marks, totals, pins) names this one, so either spelling finds it (docs/iptables.md).
BackendKind resolved_backend(BackendKind kind);

// "iptables (iptables-nft)" for `iptables` given where it resolves to iptables-nft, else the
// table's name of `resolved`: messages name what the user typed, and what it is.
std::string backend_label(BackendKind given, BackendKind resolved);

// netns: /run/netns/NAME to work in (empty: the current one), entered for the backend's
// lifetime by the calling thread and left when it is destroyed.
std::unique_ptr<Backend> make_backend(BackendKind kind, const std::string& netns);

// What holds a policy's table (or chain prefix) `object`, for messages: "table inet acctc_x",
// "iptables chains acctc-x-*".
std::string kernel_object(BackendKind kind, const std::string& object);

// The kernel table that holds a policy: acctc_<policy>.
std::string table_for_policy(const std::string& policy);

} // namespace acctc::runtime
