// Periods in local time through localtime_r/mktime: they honour TZ and the system's zone data,
// which std::chrono's time zones do not do in every standard library we build with.
#include "acctc/runtime/periods.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace acctc::periods {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

struct LengthName {
    Length length;
    std::string_view name;
};
constexpr LengthName length_names[] = {
    {Length::hour, "hour"}, {Length::day, "day"}, {Length::month, "month"}};

std::tm local_tm(sys_seconds t) {
    const std::time_t raw = t.time_since_epoch().count();
    std::tm tm{};
    ::tzset(); // localtime_r need not notice a changed TZ by itself
    if (localtime_r(&raw, &tm) == nullptr) {
        throw std::runtime_error("cannot convert " + std::to_string(raw) + " to local time");
    }
    return tm;
}

// A local date as a comparable number (its days since the epoch as if it were UTC).
long date_key(int year, int month0, int day) {
    using namespace std::chrono;
    // year_month_day does not normalise, so go through the first of the month plus days.
    const auto first = year_month_day{std::chrono::year{year} + years{month0 / 12 - (month0 < 0)},
                                      std::chrono::month{unsigned((month0 % 12 + 12) % 12) + 1},
                                      std::chrono::day{1}};
    return sys_days{first}.time_since_epoch().count() + day - 1;
}

long date_key(const std::tm& tm) {
    return date_key(tm.tm_year + 1900, tm.tm_mon, tm.tm_mday);
}

// The first second of a local date (month0 and day may be out of range: normalised like mktime).
// Usually local midnight; on a day whose midnight a DST change skips, the instant of the change.
sys_seconds start_of_local_day(int year, int month0, int day) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month0;
    tm.tm_mday = day;
    tm.tm_isdst = -1; // let the zone decide whether summer time applies
    const std::time_t raw = std::mktime(&tm);
    if (raw == std::time_t(-1)) {
        throw std::runtime_error("cannot find local midnight of " + std::to_string(year) + "-" +
                                 std::to_string(month0 + 1) + "-" + std::to_string(day));
    }
    auto start = sys_seconds{seconds{raw}};
    // mktime may answer an hour early for a midnight a spring change skips: step into the day ...
    const long wanted = date_key(year, month0, day);
    for (int guard = 0; guard < 4 && date_key(local_tm(start)) < wanted; ++guard) {
        const auto tm_start = local_tm(start);
        start += seconds{3600 - tm_start.tm_min * 60 - tm_start.tm_sec};
    }
    // ... or the later of two midnights an autumn change repeats; the day starts at the first.
    for (int guard = 0; guard < 4 && date_key(local_tm(start - seconds{3600})) == wanted; ++guard) {
        start -= seconds{3600};
    }
    return start;
}

void require_first_day(int first_day) {
    if (auto problem = first_day_problem(first_day)) {
        throw std::invalid_argument(*problem);
    }
}

} // namespace

std::string_view name(Length length) {
    for (const auto& row : length_names) {
        if (row.length == length) {
            return row.name;
        }
    }
    return "?";
}

std::optional<Length> parse_length(std::string_view text) {
    for (const auto& row : length_names) {
        if (row.name == text) {
            return row.length;
        }
    }
    return std::nullopt;
}

std::optional<std::string> first_day_problem(int first_day) {
    if (first_day >= 1 && first_day <= max_first_day) {
        return std::nullopt;
    }
    return "the month's first day must be 1.." + std::to_string(max_first_day) + ", not " +
           std::to_string(first_day) + " (29, 30 and 31 are missing from some months)";
}

Period containing(sys_seconds t, Length length, int first_day) {
    require_first_day(first_day);
    const std::tm tm = local_tm(t);
    switch (length) {
    case Length::hour: {
        const sys_seconds begin = t - seconds{tm.tm_min * 60 + tm.tm_sec};
        return {begin, begin + seconds{3600}};
    }
    case Length::day: {
        const int year = tm.tm_year + 1900;
        return {start_of_local_day(year, tm.tm_mon, tm.tm_mday),
                start_of_local_day(year, tm.tm_mon, tm.tm_mday + 1)};
    }
    case Length::month: {
        const int year = tm.tm_year + 1900;
        const int month0 = tm.tm_mday >= first_day ? tm.tm_mon : tm.tm_mon - 1;
        Period period{start_of_local_day(year, month0, first_day),
                      start_of_local_day(year, month0 + 1, first_day)};
        return period;
    }
    }
    throw std::invalid_argument("unknown period length");
}

// Built from containing() at the boundary, so consecutive periods always touch: no gap, no
// overlap, whatever the zone does.
Period next(const Period& period, Length length, int first_day) {
    return {period.end, containing(period.end, length, first_day).end};
}

Period previous(const Period& period, Length length, int first_day) {
    return {containing(period.begin - seconds{1}, length, first_day).begin, period.begin};
}

double elapsed_fraction(const Period& period, sys_seconds t) {
    const auto total = (period.end - period.begin).count();
    if (total <= 0) {
        return 1.0;
    }
    const auto done = std::clamp<long long>((t - period.begin).count(), 0, total);
    return double(done) / double(total);
}

std::optional<sys_seconds> parse_time(std::string_view text) {
    auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
        if (at + len > text.size()) {
            return std::nullopt;
        }
        int value = 0;
        const char* first = text.data() + at;
        auto [ptr, ec] = std::from_chars(first, first + len, value);
        if (ec != std::errc{} || ptr != first + len) {
            return std::nullopt;
        }
        return value;
    };
    if (!text.empty() && text.front() == '@') {
        text.remove_prefix(1);
    }
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
        long long epoch = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), epoch);
        if (ec != std::errc{} || ptr != text.data() + text.size()) {
            return std::nullopt;
        }
        return sys_seconds{seconds{epoch}};
    }
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
        text[16] != ':') {
        return std::nullopt;
    }
    auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
    auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
    if (!year || !month || !day || !hour || !minute || !second) {
        return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day date{std::chrono::year{*year}, std::chrono::month{unsigned(*month)},
                              std::chrono::day{unsigned(*day)}};
    if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) {
        return std::nullopt;
    }
    std::size_t at = 19;
    if (at < text.size() && text[at] == '.') {
        ++at;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            ++at; // fractions of a second are dropped: periods are whole seconds
        }
    }
    long offset = 0;
    const std::string_view zone = text.substr(at);
    if (zone == "Z" || zone == "z") {
        offset = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
        auto oh = number(at + 1, 2), om = number(at + 4, 2);
        if (!oh || !om || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset = (zone[0] == '-' ? -1 : 1) * (*oh * 3600L + *om * 60L);
    } else {
        return std::nullopt;
    }
    return sys_seconds{sys_days{date}} + hours{*hour} + minutes{*minute} +
           seconds{std::min(*second, 59)} - seconds{offset};
}

sys_seconds now() {
    if (const char* fake = std::getenv("ACCTC_NOW"); fake != nullptr && *fake != '\0') {
        if (auto t = parse_time(fake)) {
            return *t;
        }
        throw std::runtime_error(std::string("ACCTC_NOW=") + fake +
                                 " is neither RFC 3339 (2026-03-15T00:00:00+01:00) nor "
                                 "seconds since the epoch");
    }
    return std::chrono::floor<seconds>(std::chrono::system_clock::now());
}

std::string local_text(sys_seconds t, bool with_time) {
    const std::tm tm = local_tm(t);
    char buffer[64];
    const std::size_t n =
        std::strftime(buffer, sizeof buffer, with_time ? "%Y-%m-%d %H:%M %Z" : "%Y-%m-%d", &tm);
    return std::string(buffer, n);
}

std::string rfc3339(sys_seconds t) {
    const std::tm tm = local_tm(t);
    char buffer[64];
    std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S%z", &tm);
    std::string text(buffer, n);
    if (text.size() >= 5) {
        text.insert(text.size() - 2, ":"); // +0100 -> +01:00
    }
    return text;
}

} // namespace acctc::periods
