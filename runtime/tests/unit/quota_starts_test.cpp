// What quota objects created anew start with: the period's totals of their counters, in the
// quota's own period, capped at each object's size.
#include "acctc/runtime/quota_starts.hpp"

#include <cstdlib>
#include <ctime>
#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

using std::chrono::sys_seconds;

sys_seconds at(const char* text) {
    return *periods::parse_time(text);
}

CounterSample sample(const std::string& counter, std::uint64_t bytes, const std::string& host = {},
                     BackendKind backend = BackendKind::nftables) {
    CounterSample one{"p", counter, 1, bytes, CounterDescription::of({"wan", {}, {}, {}}), host};
    one.backend = backend;
    return one;
}

CompiledQuota line(QuotaPeriod period = QuotaPeriod::month, unsigned start_day = 15) {
    return {"line", {"wan_in", "wan_out"}, period, start_day, {{"line_warn", 800}, {"line", 1000}}};
}

using Objects = std::map<std::string, std::uint64_t, std::less<>>;
using Hosts = std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>>;

class QuotaStartsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
    PolicyTotals totals{"p"};
};

TEST_F(QuotaStartsTest, SumsTheQuotasCountersInItsCurrentPeriod) {
    // Before the billing day: the previous period, not counted.
    book(totals, {sample("wan_in", 5000), sample("wan_out", 0), sample("lan", 9)},
         at("2026-03-14T23:00:00Z"));
    // This period: 300 in, 200 out; another counter and a host series are not the quota's.
    book(totals, {sample("wan_in", 5300), sample("wan_out", 200), sample("lan", 999)},
         at("2026-03-15T01:00:00Z"));
    book(totals, {sample("wan_in_hosts", 70, "198.18.0.1")}, at("2026-03-15T01:00:00Z"));
    const auto starts = quota_starts(totals, {line()}, at("2026-03-20T00:00:00Z"));
    EXPECT_EQ(starts.objects, (Objects{{"line", 500}, {"line_warn", 500}}));
    EXPECT_TRUE(starts.hosts.empty());
    // The same totals for a quota whose period started on the 1st: everything this month.
    EXPECT_EQ(
        quota_starts(totals, {line(QuotaPeriod::month, 1)}, at("2026-03-20T00:00:00Z")).objects,
        (Objects{{"line", 1000}, {"line_warn", 800}}));
}

// A policy applied with nft and iptables at once: both counted the same packets, so the quota
// starts from the most one backend counted in the period, never their sum.
TEST_F(QuotaStartsTest, TwoBackendsOfThePolicyAreNotAdded) {
    const auto iptables = BackendKind::iptables;
    book(totals, {sample("wan_in", 400), sample("wan_out", 0)}, at("2026-03-15T01:00:00Z"));
    book(totals,
         {sample("wan_in", 450), sample("wan_in", 50, {}, iptables),
          sample("wan_out", 30, {}, iptables), sample("lan_in", 70, "198.18.0.5", iptables)},
         at("2026-03-15T02:00:00Z"));
    book(totals, {sample("lan_in", 60, "198.18.0.5")}, at("2026-03-15T02:00:00Z"));
    EXPECT_EQ(quota_starts(totals, {line()}, at("2026-03-15T03:00:00Z")).objects,
              (Objects{{"line", 450}, {"line_warn", 450}}));
    CompiledQuota kids{"kids", {"lan_in"}, QuotaPeriod::day, 1, {}, true, {"kids_quota_v4"}, 1000};
    EXPECT_EQ(quota_starts(totals, {kids}, at("2026-03-15T03:00:00Z")).hosts,
              (Hosts{{"kids_quota_v4", {{"198.18.0.5", 70}}}}));
}

TEST_F(QuotaStartsTest, CappedAtEachObjectsSizeAndNothingWhenUnused) {
    book(totals, {sample("wan_in", 900), sample("wan_out", 0)}, at("2026-03-15T01:00:00Z"));
    EXPECT_EQ(quota_starts(totals, {line()}, at("2026-03-15T02:00:00Z")).objects,
              (Objects{{"line", 900}, {"line_warn", 800}}));
    // An hourly quota in the next hour starts from nothing.
    EXPECT_TRUE(quota_starts(totals, {line(QuotaPeriod::hour)}, at("2026-03-15T02:00:00Z"))
                    .objects.empty());
    EXPECT_TRUE(
        quota_starts(PolicyTotals{"p"}, {line()}, at("2026-03-15T02:00:00Z")).objects.empty());
}

// A per-host quota: each host its own total, in the set of its address family, capped at the
// budget; the overflow counter (no host) and other counters are not a host's.
TEST_F(QuotaStartsTest, PerHostQuotasStartEachHostFromItsOwnTotal) {
    const auto now = at("2026-03-15T01:00:00Z");
    book(totals,
         {sample("lan_in", 700, "198.18.0.5"), sample("lan_out", 200, "198.18.0.5"),
          sample("lan_in", 5000, "2001:db8::7"), sample("lan_in", 40, "aa:bb:cc:dd:ee:ff"),
          sample("lan_in_overflow", 999), sample("wan_in", 3, "198.18.0.9")},
         now);
    CompiledQuota kids{"kids",
                       {"lan_in", "lan_out"},
                       QuotaPeriod::day,
                       1,
                       {},
                       true,
                       {"kids_quota_v4", "kids_quota_v6"},
                       1000};
    const auto starts = quota_starts(totals, {kids}, now);
    EXPECT_TRUE(starts.objects.empty());
    EXPECT_EQ(starts.hosts, (Hosts{{"kids_quota_v4", {{"198.18.0.5", 900}}},
                                   {"kids_quota_v6", {{"2001:db8::7", 1000}}}}));
}

// `acctc quotas --reset` in the middle of a period: a quota created anew later in that period
// (after a flush, a reboot) starts from what was booked since the reset, not from the whole
// period (it came back spent, though reset by hand); a mark of an earlier period is no longer
// in force.
TEST_F(QuotaStartsTest, AResetByHandCountsOnlyWhatCameAfterIt) {
    book(totals, {sample("wan_in", 600), sample("wan_out", 300)}, at("2026-03-16T01:00:00Z"));
    const auto mark = quota_reset_mark(totals, QuotaPeriod::month, 15, at("2026-03-16T01:30:00Z"));
    EXPECT_EQ(mark.period_begin, at("2026-03-15T00:00:00Z"));
    book(totals, {sample("wan_in", 650), sample("wan_out", 400)}, at("2026-03-16T02:00:00Z"));
    const QuotaResetMarks marks{{"line", mark}};
    EXPECT_EQ(quota_starts(totals, {line()}, at("2026-03-17T00:00:00Z"), marks).objects,
              (Objects{{"line", 150}, {"line_warn", 150}}));
    // Without the mark: the whole period, capped.
    EXPECT_EQ(quota_starts(totals, {line()}, at("2026-03-17T00:00:00Z")).objects,
              (Objects{{"line", 1000}, {"line_warn", 800}}));
    // Next period: the mark is of the one before; what counts is this period's alone.
    book(totals, {sample("wan_in", 700), sample("wan_out", 400)}, at("2026-04-15T01:00:00Z"));
    EXPECT_EQ(quota_starts(totals, {line()}, at("2026-04-16T00:00:00Z"), marks).objects,
              (Objects{{"line", 50}, {"line_warn", 50}}));
    // A mark of another quota changes nothing here.
    EXPECT_EQ(quota_starts(totals, {line()}, at("2026-03-17T00:00:00Z"), {{"other", mark}}).objects,
              (Objects{{"line", 1000}, {"line_warn", 800}}));
}

TEST_F(QuotaStartsTest, AResetByHandOfAPerHostQuotaCountsEachHostSinceIt) {
    book(totals, {sample("lan_in", 700, "198.18.0.5"), sample("lan_in", 300, "198.18.0.6")},
         at("2026-03-15T01:00:00Z"));
    const auto mark = quota_reset_mark(totals, QuotaPeriod::day, 1, at("2026-03-15T01:10:00Z"));
    book(totals,
         {sample("lan_in", 750, "198.18.0.5"), sample("lan_in", 300, "198.18.0.6"),
          sample("lan_in", 20, "198.18.0.7")},
         at("2026-03-15T02:00:00Z"));
    CompiledQuota kids{"kids", {"lan_in"}, QuotaPeriod::day, 1, {}, true, {"kids_quota_v4"}, 1000};
    EXPECT_EQ(quota_starts(totals, {kids}, at("2026-03-15T03:00:00Z"), {{"kids", mark}}).hosts,
              (Hosts{{"kids_quota_v4", {{"198.18.0.5", 50}, {"198.18.0.7", 20}}}}));
}

TEST_F(QuotaStartsTest, ResetMarksReadBackAndADamagedFileIsAnError) {
    book(totals, {sample("wan_in", 600), sample("lan_in", 5, "2001:db8::1")},
         at("2026-03-16T01:00:00Z"));
    const QuotaResetMarks marks{
        {"line", quota_reset_mark(totals, QuotaPeriod::month, 15, at("2026-03-16T01:30:00Z"))}};
    EXPECT_EQ(
        quota_reset_marks_from_json(nlohmann::json::parse(quota_reset_marks_to_json(marks).dump())),
        marks);
    EXPECT_THROW(quota_reset_marks_from_json(nlohmann::json::parse("[1]")), StateError);
    // Written before the series had a backend: the backend the caller names.
    const auto version1 = nlohmann::json::parse(R"({"line": {"period_begin": 1773532800,
        "booked": [{"counter": "wan_in", "host": "", "bytes": 600}]}})");
    const auto read = quota_reset_marks_from_json(version1, BackendKind::iptables_nft);
    EXPECT_EQ(read.at("line").booked, (std::map<SeriesKey, std::uint64_t>{
                                          {{BackendKind::iptables_nft, "wan_in", ""}, 600}}));
    EXPECT_THROW(quota_reset_marks_from_json(
                     nlohmann::json::parse(R"({"line": {"period_begin": "x", "booked": []}})")),
                 StateError);
}

} // namespace
} // namespace acctc::runtime
