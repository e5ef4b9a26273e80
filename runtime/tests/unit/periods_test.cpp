#include "acctc/runtime/periods.hpp"

#include <cstdlib>
#include <ctime>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>

namespace acctc::periods {
namespace {

using std::chrono::hours;
using std::chrono::sys_seconds;

// Sets TZ (and ACCTC_NOW) for one test and restores them after.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        ::setenv(name, value, 1);
        ::tzset();
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_.c_str(), old_->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
        ::tzset();
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    std::string name_;
    std::optional<std::string> old_;
};

sys_seconds at(const char* rfc3339) {
    auto t = parse_time(rfc3339);
    if (!t) {
        throw std::invalid_argument(rfc3339);
    }
    return *t;
}

TEST(Periods, DayAcrossBerlinSpringChangeIs23Hours) {
    ScopedEnv tz("TZ", "Europe/Berlin");
    const auto day = containing(at("2026-03-29T12:00:00+02:00"), Length::day);
    EXPECT_EQ(day.begin, at("2026-03-29T00:00:00+01:00"));
    EXPECT_EQ(day.end, at("2026-03-30T00:00:00+02:00"));
    EXPECT_EQ(day.end - day.begin, hours{23});
    EXPECT_EQ(rfc3339(day.begin), "2026-03-29T00:00:00+01:00");
    EXPECT_EQ(local_text(day.end), "2026-03-30 00:00 CEST");
}

TEST(Periods, DayAcrossBerlinAutumnChangeIs25Hours) {
    ScopedEnv tz("TZ", "Europe/Berlin");
    const auto day = containing(at("2026-10-25T02:30:00+01:00"), Length::day);
    EXPECT_EQ(day.begin, at("2026-10-25T00:00:00+02:00"));
    EXPECT_EQ(day.end, at("2026-10-26T00:00:00+01:00"));
    EXPECT_EQ(day.end - day.begin, hours{25});
}

TEST(Periods, RepeatedAutumnHourIsTwoHours) {
    ScopedEnv tz("TZ", "Europe/Berlin");
    const auto summer = containing(at("2026-10-25T02:30:00+02:00"), Length::hour);
    const auto winter = containing(at("2026-10-25T02:30:00+01:00"), Length::hour);
    EXPECT_EQ(summer.begin, at("2026-10-25T02:00:00+02:00"));
    EXPECT_EQ(winter.begin, at("2026-10-25T02:00:00+01:00"));
    EXPECT_EQ(next(summer, Length::hour), winter);
    // Spring: 01:00 CET is followed by 03:00 CEST, one real hour later.
    const auto before = containing(at("2026-03-29T01:10:00+01:00"), Length::hour);
    EXPECT_EQ(next(before, Length::hour).begin, at("2026-03-29T03:00:00+02:00"));
}

TEST(Periods, MonthFromTheFifteenth) {
    ScopedEnv tz("TZ", "Europe/Berlin");
    const auto before = containing(at("2026-03-14T23:59:59+01:00"), Length::month, 15);
    EXPECT_EQ(before.begin, at("2026-02-15T00:00:00+01:00"));
    EXPECT_EQ(before.end, at("2026-03-15T00:00:00+01:00"));
    const auto on = containing(at("2026-03-15T00:00:00+01:00"), Length::month, 15);
    EXPECT_EQ(on.begin, before.end);
    EXPECT_EQ(on.end, at("2026-04-15T00:00:00+02:00")); // ends in summer time
    EXPECT_EQ(next(before, Length::month, 15), on);
    EXPECT_EQ(previous(on, Length::month, 15), before);
}

TEST(Periods, MonthAcrossTheYearEnd) {
    ScopedEnv tz("TZ", "Europe/Berlin");
    const auto december = containing(at("2026-12-20T10:00:00+01:00"), Length::month, 15);
    EXPECT_EQ(december.begin, at("2026-12-15T00:00:00+01:00"));
    EXPECT_EQ(december.end, at("2027-01-15T00:00:00+01:00"));
    EXPECT_EQ(containing(at("2027-01-10T10:00:00+01:00"), Length::month, 15), december);
    const auto calendar = containing(at("2026-12-31T23:59:59+01:00"), Length::month);
    EXPECT_EQ(calendar.begin, at("2026-12-01T00:00:00+01:00"));
    EXPECT_EQ(calendar.end, at("2027-01-01T00:00:00+01:00"));
    EXPECT_EQ(next(calendar, Length::month).begin, at("2027-01-01T00:00:00+01:00"));
    const auto new_year = containing(at("2027-01-01T00:00:00+01:00"), Length::day);
    EXPECT_EQ(new_year.begin, at("2027-01-01T00:00:00+01:00"));
}

TEST(Periods, February) {
    ScopedEnv tz("TZ", "UTC");
    const auto leap = containing(at("2028-02-29T12:00:00Z"), Length::month);
    EXPECT_EQ(leap.end - leap.begin, hours{29 * 24});
    const auto plain = containing(at("2027-02-10T12:00:00Z"), Length::month);
    EXPECT_EQ(plain.end - plain.begin, hours{28 * 24});
    // Billing day 28: February's period starts on the 28th whatever the year.
    const auto billing = containing(at("2028-02-28T00:00:00Z"), Length::month, 28);
    EXPECT_EQ(billing.begin, at("2028-02-28T00:00:00Z"));
    EXPECT_EQ(billing.end, at("2028-03-28T00:00:00Z"));
    EXPECT_EQ(containing(at("2028-02-27T23:59:59Z"), Length::month, 28).begin,
              at("2028-01-28T00:00:00Z"));
}

TEST(Periods, StartDayBeyond28IsRejected) {
    EXPECT_FALSE(first_day_problem(1));
    EXPECT_FALSE(first_day_problem(28));
    for (int bad : {0, 29, 30, 31, -1}) {
        ASSERT_TRUE(first_day_problem(bad)) << bad;
        EXPECT_NE(first_day_problem(bad)->find("1..28"), std::string::npos);
        EXPECT_THROW(containing(at("2026-01-01T00:00:00Z"), Length::month, bad),
                     std::invalid_argument);
    }
}

// Whatever the zone does, days chain without gap or overlap over a year, and each day has
// 23, 24 or 25 hours. Havana skips and repeats local midnight itself.
TEST(Periods, DaysChainThroughAYear) {
    for (const char* zone : {"Europe/Berlin", "America/Havana", "UTC", "Australia/Sydney"}) {
        ScopedEnv tz("TZ", zone);
        auto day = containing(at("2026-01-01T12:00:00Z"), Length::day);
        int short_days = 0;
        int long_days = 0;
        for (int i = 0; i < 366; ++i) {
            const auto length = day.end - day.begin;
            ASSERT_TRUE(length == hours{23} || length == hours{24} || length == hours{25})
                << zone << " " << rfc3339(day.begin);
            short_days += length == hours{23};
            long_days += length == hours{25};
            EXPECT_EQ(containing(day.begin, Length::day), day) << zone << " " << rfc3339(day.begin);
            EXPECT_EQ(containing(day.end - std::chrono::seconds{1}, Length::day), day);
            const auto following = next(day, Length::day);
            ASSERT_EQ(following.begin, day.end);
            day = following;
        }
        const bool has_dst = std::string(zone) != "UTC";
        EXPECT_EQ(short_days, has_dst ? 1 : 0) << zone;
        EXPECT_EQ(long_days, has_dst ? 1 : 0) << zone;
    }
}

TEST(Periods, HavanaMidnightChanges) {
    ScopedEnv tz("TZ", "America/Havana");
    // 2026-03-08 00:00 does not exist (the clock goes from 23:59:59 CST to 01:00 CDT).
    const auto spring = containing(at("2026-03-08T12:00:00-04:00"), Length::day);
    EXPECT_EQ(spring.begin, at("2026-03-08T01:00:00-04:00"));
    // 2026-11-01 00:00 happens twice; the day starts at the first.
    const auto autumn = containing(at("2026-11-01T12:00:00-05:00"), Length::day);
    EXPECT_EQ(autumn.begin, at("2026-11-01T00:00:00-04:00"));
    EXPECT_EQ(autumn.end - autumn.begin, hours{25});
}

TEST(Periods, ElapsedFraction) {
    const Period p{at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z")};
    EXPECT_DOUBLE_EQ(elapsed_fraction(p, at("2026-01-01T06:00:00Z")), 0.25);
    EXPECT_DOUBLE_EQ(elapsed_fraction(p, at("2025-01-01T06:00:00Z")), 0.0);
    EXPECT_DOUBLE_EQ(elapsed_fraction(p, at("2027-01-01T06:00:00Z")), 1.0);
}

TEST(Periods, ParsesTimes) {
    EXPECT_EQ(parse_time("0"), sys_seconds{});
    EXPECT_EQ(parse_time("@1700000000"), sys_seconds{std::chrono::seconds{1700000000}});
    EXPECT_EQ(parse_time("2026-03-15T00:00:00Z"), parse_time("2026-03-15T01:00:00+01:00"));
    EXPECT_EQ(parse_time("2026-03-15 00:00:00.75z"), parse_time("2026-03-14T19:00:00-05:00"));
    for (const char* bad : {"", "@", "tomorrow", "2026-02-30T00:00:00Z", "2026-03-15T00:00:00",
                            "2026-03-15T25:00:00Z", "2026-03-15T00:00:00+1:00", "12x"}) {
        EXPECT_FALSE(parse_time(bad)) << bad;
    }
}

TEST(Periods, NowFollowsAcctcNow) {
    {
        ScopedEnv fake("ACCTC_NOW", "2026-03-15T00:00:00Z");
        EXPECT_EQ(now(), at("2026-03-15T00:00:00Z"));
    }
    {
        ScopedEnv fake("ACCTC_NOW", "yesterday");
        EXPECT_THROW(now(), std::runtime_error);
    }
    EXPECT_GT(now(), at("2020-01-01T00:00:00Z"));
}

TEST(Periods, LengthNames) {
    for (auto length : all_lengths) {
        EXPECT_EQ(parse_length(name(length)), length);
    }
    EXPECT_FALSE(parse_length("week"));
}

} // namespace
} // namespace acctc::periods
