// Kernel readings booked into the state directory's period totals: what `acctc save` does, and
// what apply, `counters --reset` and remove do before they zero or replace counters. Every
// function here takes the store's lock, which the caller holds across the kernel operation too.
#pragma once

#include "acctc/recording/state_store.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/period_totals.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace acctc::recording {

struct BookedPolicy {
    std::string policy;
    runtime::Booked booked;
};

struct BookingResult {
    std::vector<BookedPolicy> booked;
    std::vector<std::string> errors; // one per policy whose file is damaged or cannot be written
};

// Groups `readings` (all counters of each policy they hold) by policy and books each group into
// its policy's file: load, runtime::book, save. A policy whose file fails is left as it is and
// reported; the others are booked.
BookingResult book_readings(const StateStore& store, const DirectoryLock& held,
                            const std::vector<runtime::CounterReading>& readings,
                            std::chrono::sys_seconds now,
                            runtime::AfterReading after = runtime::AfterReading::kept);

// Loads the policy's totals, lets `change` edit them, saves them.
void change_totals(const StateStore& store, const DirectoryLock& held, const std::string& policy,
                   const std::function<void(runtime::PolicyTotals&)>& change);

// After an apply with `backend`: a table created anew starts every counter of that backend from
// zero; counters the reload removed are booked with their final values.
void book_apply(const StateStore& store, const DirectoryLock& held, const std::string& policy,
                runtime::BackendKind backend, const runtime::ApplyReport& report,
                std::chrono::sys_seconds now);

} // namespace acctc::recording
