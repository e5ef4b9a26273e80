#include "totals.hpp"

#include "acctc/recording/output_file.hpp"
#include "acctc/recording/totals_booking.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/quota_starts.hpp"
#include "service.hpp"

#include <filesystem>
#include <fstream>

namespace acctc::cli {

namespace po = boost::program_options;

void add_state_dir_option(po::options_description& options, std::string& dir) {
    options.add_options()("state-dir", po::value(&dir),
                          "directory of the period totals (default $ACCTC_STATE_DIR, else "
                          "/var/lib/acctc)");
}

recording::StateStore totals_store(const std::string& dir, const KernelOptions& kernel) {
    return recording::StateStore(recording::state_dir(dir), kernel.netns);
}

std::optional<KeptTotals> totals_to_keep(const std::string& dir, const KernelOptions& kernel,
                                         const char* command) {
    auto store = totals_store(dir, kernel);
    std::error_code error;
    if (!std::filesystem::is_directory(store.directory(), error)) {
        return std::nullopt;
    }
    try {
        auto lock = store.lock();
        return KeptTotals{std::move(store), std::move(lock)};
    } catch (const std::exception& problem) {
        log_line(LogPriority::warning, std::string("acctc ") + command +
                                           ": warning: period totals not kept: " + problem.what());
        return std::nullopt;
    }
}

void save_before_change(const KeptTotals& kept, const KernelOptions& kernel,
                        const std::string& policy, const char* command) {
    try {
        const runtime::CounterSource source(kernel.netns, given_backend(kernel));
        const auto result =
            recording::book_readings(kept.store, kept.lock, source.read(policy), periods::now());
        for (const auto& problem : result.errors) {
            log_line(LogPriority::warning,
                     std::string("acctc ") + command + ": warning: " + problem);
        }
    } catch (const runtime::RuntimeError& error) {
        if (error.kind() != runtime::ErrorKind::unknown_table) {
            log_line(LogPriority::warning, std::string("acctc ") + command +
                                               ": warning: counters not saved: " + error.what());
        }
    }
}

namespace {

std::filesystem::path quota_resets_file(const KeptTotals& kept, const std::string& policy) {
    return kept.store.directory() / (policy + ".quota-resets"); // not *.json: no policy's totals
}

// The marks of the policy's quotas reset by hand; none when there is no file.
runtime::QuotaResetMarks quota_resets(const KeptTotals& kept, const std::string& policy) {
    const auto file = quota_resets_file(kept, policy);
    std::ifstream in(file);
    if (!in) {
        return {};
    }
    try {
        return runtime::quota_reset_marks_from_json(nlohmann::json::parse(in),
                                                    kept.store.version1_backend(policy));
    } catch (const std::exception& error) {
        throw runtime::StateError(file.string() + ": " + error.what());
    }
}

} // namespace

void mark_quota_resets(const KeptTotals& kept, const std::string& policy,
                       const std::vector<runtime::QuotaReading>& readings) {
    try {
        const auto totals = kept.store.load(policy);
        runtime::QuotaResetMarks marks;
        try {
            marks = quota_resets(kept, policy);
        } catch (const runtime::StateError&) {
            // Damaged: the marks written now replace it (only reset quotas are in force).
        }
        const auto now = periods::now();
        for (const auto& reading : readings) {
            marks[reading.quota] = runtime::quota_reset_mark(totals, reading.identity.period,
                                                             reading.identity.start_day, now);
        }
        recording::write_output_file(quota_resets_file(kept, policy),
                                     runtime::quota_reset_marks_to_json(marks).dump() + "\n");
    } catch (const std::exception& error) {
        log_line(LogPriority::warning,
                 "acctc quotas: warning: the reset is not recorded with the period totals (a "
                 "quota created anew this period will start from all its counters counted): " +
                     std::string(error.what()));
    }
}

QuotaStarts quota_starts_from_totals(const KeptTotals& kept, const CompiledPolicy& policy,
                                     const char* command) {
    if (policy.quotas.empty()) {
        return {};
    }
    try {
        return runtime::quota_starts(kept.store.load(policy.policy_name), policy.quotas,
                                     periods::now(), quota_resets(kept, policy.policy_name));
    } catch (const std::exception& error) {
        log_line(LogPriority::warning,
                 std::string("acctc ") + command +
                     ": warning: quotas created anew start from 0: " + error.what());
        return {};
    }
}

runtime::EveryPolicyRead reset_keeping_totals(const runtime::CounterSource& source,
                                              const std::string& policy,
                                              const std::string& state_dir,
                                              const KernelOptions& kernel, const char* command) {
    const auto kept = totals_to_keep(state_dir, kernel, command);
    auto read = policy.empty() ? source.read_every(true)
                               : runtime::EveryPolicyRead{source.read(policy, true), {}};
    if (kept) {
        const auto result = recording::book_readings(kept->store, kept->lock, read.readings,
                                                     periods::now(), runtime::AfterReading::zeroed);
        for (const auto& problem : result.errors) {
            log_line(LogPriority::warning,
                     std::string("acctc ") + command + ": warning: " + problem);
        }
    }
    return read;
}

} // namespace acctc::cli
