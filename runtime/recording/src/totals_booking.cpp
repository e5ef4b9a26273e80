#include "acctc/recording/totals_booking.hpp"

#include "acctc/runtime/counters.hpp"

#include <map>
#include <stdexcept>

namespace acctc::recording {

BookingResult book_readings(const StateStore& store, const DirectoryLock& held,
                            const std::vector<runtime::CounterReading>& readings,
                            std::chrono::sys_seconds now, runtime::AfterReading after) {
    std::map<std::string, std::vector<runtime::CounterSample>> by_policy;
    for (const auto& reading : readings) {
        by_policy[reading.sample.policy].push_back(reading.sample);
    }
    BookingResult result;
    for (const auto& [policy, samples] : by_policy) {
        try {
            runtime::Booked booked;
            change_totals(store, held, policy, [&](runtime::PolicyTotals& totals) {
                booked = runtime::book(totals, samples, now, after);
            });
            result.booked.push_back({policy, booked});
        } catch (const std::runtime_error& error) {
            result.errors.emplace_back(error.what());
        }
    }
    return result;
}

void change_totals(const StateStore& store, const DirectoryLock& held, const std::string& policy,
                   const std::function<void(runtime::PolicyTotals&)>& change) {
    auto totals = store.load(policy);
    change(totals);
    store.save(totals, held);
}

void book_apply(const StateStore& store, const DirectoryLock& held, const std::string& policy,
                runtime::BackendKind backend, const runtime::ApplyReport& report,
                std::chrono::sys_seconds now) {
    if (report.dry_run) {
        return;
    }
    change_totals(store, held, policy, [&](runtime::PolicyTotals& totals) {
        if (report.created) {
            runtime::forget_baselines(totals, backend, report.pinned_counters);
        }
        runtime::book_final(totals, runtime::samples_of(report.removed), now);
    });
}

} // namespace acctc::recording
