// What the commands that read, zero or replace counters share about the period totals in the
// state directory (docs/periods.md): --state-dir, and booking the counters before a change.
#pragma once

#include "acctc/compile.hpp"
#include "acctc/recording/state_store.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/quotas.hpp"
#include "kernel_options.hpp"

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

namespace acctc::cli {

// Adds --state-dir DIR (default $ACCTC_STATE_DIR, else /var/lib/acctc).
void add_state_dir_option(boost::program_options::options_description& options, std::string& dir);

// The store of the namespace --netns names, under --state-dir.
recording::StateStore totals_store(const std::string& dir, const KernelOptions& kernel);

// The store and its lock for a command about to zero or replace counters, when totals are kept
// there: only once the store's directory exists (`acctc save` creates it), so a machine that
// never saves gets no files. Empty otherwise, or when the lock cannot be taken (said on stderr
// as a warning: the command goes on, only the totals miss what it zeroes).
struct KeptTotals {
    recording::StateStore store;
    recording::DirectoryLock lock;
};
std::optional<KeptTotals> totals_to_keep(const std::string& dir, const KernelOptions& kernel,
                                         const char* command);

// Books the policy's counters (empty: every policy) as the kernel holds them now into `kept`,
// under its lock. Problems become warnings naming `command`: a missing table is expected
// (flushed, or a first apply), a damaged file is left for the user.
void save_before_change(const KeptTotals& kept, const KernelOptions& kernel,
                        const std::string& policy, const char* command);

// What the policy's quota objects start with when apply creates them (runtime/quota_starts.hpp),
// from the totals in `kept`; empty (with a warning naming `command`) when they do not read.
QuotaStarts quota_starts_from_totals(const KeptTotals& kept, const CompiledPolicy& policy,
                                     const char* command);

// After `acctc quotas --reset` of `policy` (what its quotas held: `readings`), with its counters
// booked first (save_before_change): records what each quota's counters had been booked in its
// current period, beside the totals (POLICY.quota-resets), for quota_starts_from_totals.
void mark_quota_resets(const KeptTotals& kept, const std::string& policy,
                       const std::vector<runtime::QuotaReading>& readings);

// source.read(policy, reset = true), or source.read_every(true) when policy is empty (for a
// policy named, no unloaded ones), with what it zeroes booked into the totals when they are kept
// (totals_to_keep), under their lock across the read.
runtime::EveryPolicyRead reset_keeping_totals(const runtime::CounterSource& source,
                                              const std::string& policy,
                                              const std::string& state_dir,
                                              const KernelOptions& kernel, const char* command);

} // namespace acctc::cli
