// Accounting periods (hour, day, month from a billing day) in the local time zone, and the clock
// they are measured by. Shared by the state store, the report and the quotas.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace acctc::periods {

enum class Length { hour, day, month };

// The three lengths in order, for tables and help texts.
inline constexpr Length all_lengths[] = {Length::hour, Length::day, Length::month};

std::string_view name(Length length);
std::optional<Length> parse_length(std::string_view text);

// A half-open interval [begin, end) of real (UTC) time.
struct Period {
    std::chrono::sys_seconds begin;
    std::chrono::sys_seconds end;

    bool contains(std::chrono::sys_seconds t) const { return begin <= t && t < end; }
    friend bool operator==(const Period&, const Period&) = default;
};

// The day of the month a month period starts on. 1..28 only: every month has those days, so
// every period is a whole month and none is skipped or doubled. 29, 30 and 31 are rejected
// (first_day_problem says why) rather than silently moved to the month's last day.
inline constexpr int max_first_day = 28;
// Empty when `first_day` is a valid billing day, else the sentence to show the user.
std::optional<std::string> first_day_problem(int first_day);

// The period containing `t`, in the local time zone (TZ honoured, as by localtime(3)):
// - hour: from the local hh:00:00 to 3600 s later, so the repeated hour of an autumn DST change
//   is two periods and the skipped spring hour is none;
// - day: local midnight to the next local midnight (23 h or 25 h on a DST change day);
// - month: local midnight of `first_day` to the same day one month later.
// Throws std::invalid_argument when first_day_problem(first_day) is set.
Period containing(std::chrono::sys_seconds t, Length length, int first_day = 1);
// The period after `period` (which must come from containing() with the same arguments).
Period next(const Period& period, Length length, int first_day = 1);
// The period before it.
Period previous(const Period& period, Length length, int first_day = 1);

// How much of `period` has passed at `t`: 0 before it, 1 after it.
double elapsed_fraction(const Period& period, std::chrono::sys_seconds t);

// The clock: the system clock, or ACCTC_NOW when set (RFC 3339, e.g. 2026-03-29T01:30:00+01:00
// or ...Z, or seconds since the epoch, optionally prefixed with @), so tests can move time.
// Throws std::runtime_error naming ACCTC_NOW when the variable is set but unreadable.
std::chrono::sys_seconds now();
// The parser behind ACCTC_NOW; empty when `text` is neither form.
std::optional<std::chrono::sys_seconds> parse_time(std::string_view text);

// Local wall-clock text for reports: "2026-03-15 00:00 CET" (with_zone) or "2026-03-15".
std::string local_text(std::chrono::sys_seconds t, bool with_time = true);
// RFC 3339 with the local offset, for JSON: "2026-03-15T00:00:00+01:00".
std::string rfc3339(std::chrono::sys_seconds t);

} // namespace acctc::periods
