// A policy's totals per period, kept across resets, reloads, flushes and reboots: what the kernel
// counted, booked into local hours and days as it is read (docs/periods.md). Pure data and
// arithmetic: the files are recording/state_store.hpp's, the bookings from the kernel
// recording/totals_booking.hpp's.
#pragma once

#include "acctc/runtime/backend_kind.hpp"
#include "acctc/runtime/counter_sample.hpp"
#include "acctc/runtime/periods.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace acctc::runtime {

struct Amount {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;

    Amount& operator+=(const Amount& other) {
        packets += other.packets;
        bytes += other.bytes;
        return *this;
    }
    friend bool operator==(const Amount&, const Amount&) = default;
};

// One kernel counter, or one host of a per-host counter, as one backend counts it: a policy
// applied with two backends at once (a move from one to the other) has two of each counter,
// each counting every packet from its own zero, so each has its own baseline and bookings.
struct SeriesKey {
    BackendKind backend;
    std::string counter; // as compiled, e.g. skype_tcp_in
    std::string host;    // the host label's value; empty for a plain counter
    friend auto operator<=>(const SeriesKey&, const SeriesKey&) = default;
};

struct Series {
    std::string family;          // from the latest reading
    std::vector<Label> labels{}; // from the latest reading (host included)
    // The kernel's value at the last booking; empty when the counter was not in the kernel then
    // (never seen, table flushed, host element expired): its next value is booked whole.
    std::optional<Amount> baseline{};
    // Booked amounts by the start (seconds since the epoch) of the local hour / local day.
    std::map<std::int64_t, Amount> hours{};
    std::map<std::int64_t, Amount> days{};
};

// How much history a file keeps, by count of buckets (not by age, so a clock that jumps far
// ahead once cannot wipe the history): 8 days of hours, 400 days (13 months) of days.
inline constexpr std::size_t kept_hours = 8 * 24;
inline constexpr std::size_t kept_days = 400;

// How many periods before the current one a report may show (--history), each still whole:
// the kept buckets include the current hour and day. Thirteen months (the current one and 12)
// are at most 397 days (a leap year and a 31-day month), within the days kept.
constexpr std::size_t max_history(periods::Length length) {
    return length == periods::Length::hour  ? kept_hours - 1
           : length == periods::Length::day ? kept_days - 1
                                            : 12;
}
static_assert(366 + 31 <= kept_days, "13 months of days are kept");

// How many readings a booking took and how many of them had counted something since the last
// one. No sum of bytes: the counters of a policy overlap (a counter and its classes, a split's
// members, two hooks seeing one packet), so a sum over them counts packets more than once.
struct Booked {
    std::size_t readings = 0;
    std::size_t changed = 0;
    friend bool operator==(const Booked&, const Booked&) = default;
};

struct PolicyTotals {
    std::string policy;
    std::optional<std::chrono::sys_seconds> last_booking{};
    std::map<SeriesKey, Series> series{};
};

// What the counters hold after the readings were taken.
enum class AfterReading {
    kept,   // a plain read: they go on from the values read
    zeroed, // read and reset in one operation: they go on from zero
};

SeriesKey key_of(const CounterSample& sample);

// Books what each counter counted since the last booking into the hour and day containing
// `now`: the difference to its baseline (the series of the reading's backend), or its whole
// value when it has no baseline or went down (a reset, a flush and re-apply, a reboot: a new
// baseline). `readings` are all of the policy's counters in each backend they come from: a
// series of such a backend missing from them loses its baseline (another backend's keeps
// its). Returns how many readings it booked and how many counted.
Booked book(PolicyTotals& totals, const std::vector<CounterSample>& readings,
            std::chrono::sys_seconds now, AfterReading after = AfterReading::kept);
// Books the final values of counters about to disappear (a reload removing them, a remove) and
// drops their baselines.
void book_final(PolicyTotals& totals, const std::vector<CounterSample>& finals,
                std::chrono::sys_seconds now);
// Every counter of `backend` starts again from zero (its table was created anew): their
// baselines dropped, but for the counters named in `kept` (counted outside the table, in pinned
// BPF maps).
void forget_baselines(PolicyTotals& totals, BackendKind backend,
                      const std::vector<std::string>& kept = {});

// Every series of `from` becomes `to`'s: series booked as `iptables` before acctc took it as the
// variant installed (backend.hpp, resolved_backend). Where `to` has the series too (both names
// were read), both counted the same packets: each hour and day keeps the larger amount, and
// `to`'s baseline (the one its readings go on from) stays.
void merge_backend(PolicyTotals& totals, BackendKind from, BackendKind to);

// A series' total over [period.begin, period.end): its days for a day or month period, its hours
// for an hour period.
Amount total_in(const Series& series, const periods::Period& period, periods::Length length);

// The file format (docs/periods.md). from_json throws StateError for anything damaged: a
// damaged file is reported, never half-read into wrong totals.
struct StateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Version 1 files (before the series had a backend) load with every series as
// `version1_backend`'s.
nlohmann::json to_json(const PolicyTotals& totals);
PolicyTotals totals_from_json(const nlohmann::json& json,
                              BackendKind version1_backend = BackendKind::nftables);
// The version of a totals file's JSON; 0 when it has none.
int totals_version(const nlohmann::json& json);

} // namespace acctc::runtime
