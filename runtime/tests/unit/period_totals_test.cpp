#include "acctc/runtime/period_report.hpp"
#include "acctc/runtime/period_totals.hpp"

#include <cstdlib>
#include <ctime>
#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

using periods::Length;
using std::chrono::sys_seconds;

sys_seconds at(const char* text) {
    return *periods::parse_time(text);
}

CounterSample sample(const std::string& counter, std::uint64_t packets, std::uint64_t bytes,
                     const std::string& host = {}, BackendKind backend = BackendKind::nftables) {
    CounterSample one{"p",
                      counter,
                      packets,
                      bytes,
                      CounterDescription::of({counter.substr(0, counter.find('_')), {}, {}, {}}),
                      host};
    one.backend = backend;
    return one;
}

Amount month_total(const PolicyTotals& totals, const std::string& counter, sys_seconds now,
                   int first_day = 1) {
    return total_in(totals.series.at({BackendKind::nftables, counter, ""}),
                    periods::containing(now, Length::month, first_day), Length::month);
}

// What one booking added to the month of `now`, over every series: the amount, where book()
// itself returns only how many readings it took.
Amount booked_amount(PolicyTotals& totals, const std::vector<CounterSample>& readings,
                     sys_seconds now) {
    const auto month = periods::containing(now, Length::month);
    const auto sum = [&] {
        Amount total;
        for (const auto& [key, series] : totals.series) {
            total += total_in(series, month, Length::month);
        }
        return total;
    };
    const Amount before = sum();
    book(totals, readings, now);
    const Amount after = sum();
    return {after.packets - before.packets, after.bytes - before.bytes};
}

class PeriodTotals : public ::testing::Test {
  protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
    PolicyTotals totals{"p"};
};

TEST_F(PeriodTotals, BooksTheDeltaSinceTheLastReading) {
    const auto now = at("2026-03-10T10:00:00Z");
    EXPECT_EQ(book(totals, {sample("wan", 10, 1000)}, now), (Booked{1, 1}));
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{10, 1000}));
    EXPECT_EQ(book(totals, {sample("wan", 15, 1500)}, now), (Booked{1, 1}));
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{15, 1500}));
    EXPECT_EQ(book(totals, {sample("wan", 15, 1500)}, now), (Booked{1, 0}));
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{15, 1500}));
}

// What a booking tells `acctc save` to print: how many readings, how many counted. Overlapping
// counters (a counter and its class) are not summed into one amount of bytes.
TEST_F(PeriodTotals, BookingCountsReadingsNotBytes) {
    const auto now = at("2026-03-10T10:00:00Z");
    EXPECT_EQ(book(totals,
                   {sample("web", 2, 200), sample("web_https", 2, 200), sample("dns", 0, 0)}, now),
              (Booked{3, 2}));
    EXPECT_EQ(book(totals,
                   {sample("web", 2, 200), sample("web_https", 2, 200), sample("dns", 1, 80)}, now),
              (Booked{3, 1}));
}

// A counter that went down was reset (or its table flushed and re-applied, or the machine
// rebooted): it counted its new value since, nothing is subtracted.
TEST_F(PeriodTotals, CounterGoingDownIsANewBaseline) {
    const auto now = at("2026-03-10T10:00:00Z");
    book(totals, {sample("wan", 10, 1000)}, now);
    book(totals, {sample("wan", 3, 300)}, now);
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{13, 1300}));
    book(totals, {sample("wan", 4, 400)}, now);
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{14, 1400}));
}

TEST_F(PeriodTotals, ResetReadingsContinueFromZero) {
    const auto now = at("2026-03-10T10:00:00Z");
    book(totals, {sample("wan", 10, 1000)}, now);
    // counters --reset read 12 and zeroed: 2 booked, and the next 5 are all new.
    book(totals, {sample("wan", 12, 1200)}, now, AfterReading::zeroed);
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{12, 1200}));
    book(totals, {sample("wan", 5, 500)}, now);
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{17, 1700}));
}

TEST_F(PeriodTotals, FinalValuesAndRecreatedTables) {
    const auto now = at("2026-03-10T10:00:00Z");
    book(totals, {sample("wan", 10, 1000), sample("old", 1, 10)}, now);
    book_final(totals, {sample("old", 3, 30)}, now); // a reload removed it
    forget_baselines(totals, BackendKind::nftables); // a flush: the table came back empty
    // The new table's wan grew past its old value before the next save: still all new.
    book(totals, {sample("wan", 20, 2000)}, now);
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{30, 3000}));
    EXPECT_EQ(month_total(totals, "old", now), (Amount{3, 30}));
}

// Per-host counters counted in BPF live in pinned maps, which a flush of the ruleset leaves:
// the table created anew keeps their baselines (their next value is not all new).
TEST_F(PeriodTotals, ATableCreatedAnewKeepsTheBaselinesOfPinnedCounters) {
    const auto now = at("2026-03-10T10:00:00Z");
    book(totals, {sample("wan", 10, 1000), sample("lan_in", 3, 300, "198.18.0.1")}, now);
    forget_baselines(totals, BackendKind::nftables, {"lan_in", "lan_in_overflow"});
    book(totals, {sample("wan", 2, 200), sample("lan_in", 4, 400, "198.18.0.1")}, now);
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{12, 1200}));
    EXPECT_EQ(total_in(totals.series.at({BackendKind::nftables, "lan_in", "198.18.0.1"}),
                       periods::containing(now, Length::day), Length::day),
              (Amount{4, 400}));
}

TEST_F(PeriodTotals, MissingCounterLosesItsBaseline) {
    const auto now = at("2026-03-10T10:00:00Z");
    book(totals, {sample("lan", 10, 1000, "198.18.0.1")}, now);
    book(totals, {sample("wan", 1, 100)}, now); // the host's element expired, the rest read
    book(totals, {sample("lan", 12, 1200, "198.18.0.1")}, now);
    EXPECT_EQ(total_in(totals.series.at({BackendKind::nftables, "lan", "198.18.0.1"}),
                       periods::containing(now, Length::day), Length::day),
              (Amount{22, 2200}));
}

// Each delta lands in the hour and day of its booking; a month is its days.
// A policy applied with nft and iptables at once (a move): each backend's counter counts from
// its own zero, so each is booked against its own baseline, and a read of one backend leaves
// the other's baselines alone. Before, both backends' readings shared one baseline per counter.
TEST_F(PeriodTotals, EachBackendOfAPolicyHasItsOwnBaseline) {
    const auto now = at("2026-03-10T10:00:00Z");
    const auto iptables = BackendKind::iptables;
    EXPECT_EQ(booked_amount(totals, {sample("wan", 10, 1000)}, now), (Amount{10, 1000}));
    // iptables applied too: from zero, both count the next 3.
    EXPECT_EQ(
        booked_amount(totals, {sample("wan", 13, 1300), sample("wan", 3, 300, {}, iptables)}, now),
        (Amount{6, 600}));
    EXPECT_EQ(booked_amount(totals, {sample("wan", 5, 500, {}, iptables)}, now), (Amount{2, 200}));
    EXPECT_EQ(booked_amount(totals, {sample("wan", 14, 1400)}, now), (Amount{1, 100}));
    book_final(totals, {sample("wan", 15, 1500)}, now); // nft removed
    EXPECT_FALSE(totals.series.at({BackendKind::nftables, "wan", ""}).baseline);
    EXPECT_EQ(booked_amount(totals, {sample("wan", 9, 900, {}, iptables)}, now), (Amount{4, 400}));
    EXPECT_EQ(month_total(totals, "wan", now), (Amount{15, 1500}));
    EXPECT_EQ(total_in(totals.series.at({iptables, "wan", ""}),
                       periods::containing(now, Length::month), Length::month),
              (Amount{9, 900}));
    // A table created anew with nft (applied there again) restarts nft's counters only.
    book(totals, {sample("wan", 1, 100)}, now);
    forget_baselines(totals, BackendKind::nftables);
    EXPECT_FALSE(totals.series.at({BackendKind::nftables, "wan", ""}).baseline);
    EXPECT_EQ(totals.series.at({iptables, "wan", ""}).baseline, (Amount{9, 900}));
}

// Series booked as `iptables` before acctc took it as the variant installed become the
// variant's; where both names booked one counter (the same packets), each bucket keeps the
// larger amount and the variant's baseline stays.
TEST_F(PeriodTotals, MergeBackendTakesTheSeriesOfTheNameAsGiven) {
    const auto now = at("2026-03-10T10:00:00Z");
    const auto later = at("2026-03-10T11:00:00Z");
    const auto nft = BackendKind::iptables_nft;
    book(totals, {sample("wan", 10, 1000, {}, BackendKind::iptables), sample("lan", 3, 300)}, now);
    // The same kernel counter read with both names: as iptables-nft it has no baseline yet and
    // is booked whole (what the older acctc did), as iptables from 10.
    book(totals, {sample("wan", 13, 1300, {}, nft)}, later);
    book(totals,
         {sample("wan", 13, 1300, {}, BackendKind::iptables),
          sample("dns", 2, 200, {}, BackendKind::iptables)},
         later);
    merge_backend(totals, BackendKind::iptables, nft);
    EXPECT_FALSE(totals.series.contains({BackendKind::iptables, "wan", ""}));
    const auto& wan = totals.series.at({nft, "wan", ""});
    EXPECT_EQ(wan.baseline, (Amount{13, 1300}));
    EXPECT_EQ(wan.hours.size(), 2U);
    // The day: 13, not 13 + 13.
    EXPECT_EQ(total_in(wan, periods::containing(now, Length::month), Length::month),
              (Amount{13, 1300}));
    EXPECT_EQ(totals.series.at({nft, "dns", ""}).baseline, (Amount{2, 200}));
    EXPECT_TRUE(totals.series.contains({BackendKind::nftables, "lan", ""}));
    EXPECT_EQ(totals.series.size(), 3U);
    // The variant's readings go on from its baseline.
    book(totals, {sample("wan", 15, 1500, {}, nft), sample("dns", 2, 200, {}, nft)}, later);
    EXPECT_EQ(total_in(totals.series.at({nft, "wan", ""}), periods::containing(now, Length::month),
                       Length::month),
              (Amount{15, 1500}));
}

// The report shows each backend that counted apart, never their sum.
TEST_F(PeriodTotals, ReportOfTwoBackendsShowsEachApart) {
    const auto now = at("2026-03-10T10:00:00Z");
    book(totals, {sample("wan", 10, 1000), sample("wan", 4, 400, {}, BackendKind::iptables)}, now);
    const ReportOptions options;
    const auto reports = build_reports(totals, now, options);
    ASSERT_EQ(reports.size(), 2U);
    EXPECT_EQ(reports[0].backend, BackendKind::nftables);
    EXPECT_EQ(reports[0].periods[0].families[0].total, (Amount{10, 1000}));
    EXPECT_EQ(reports[1].backend, BackendKind::iptables);
    EXPECT_EQ(reports[1].also_counted_by, std::vector{BackendKind::nftables});
    EXPECT_EQ(reports[1].periods[0].families[0].total, (Amount{4, 400}));
    const auto text = format_report(reports, options, now, true);
    EXPECT_NE(text.find("policy p as counted by iptables, by month"), std::string::npos) << text;
    EXPECT_NE(text.find("also counted by nft, shown apart and not added"), std::string::npos)
        << text;
    // Next month only iptables counted: one report, as for any policy.
    const auto later = at("2026-04-10T10:00:00Z");
    book(totals, {sample("wan", 6, 600, {}, BackendKind::iptables)}, later);
    const auto april = build_reports(totals, later, options);
    ASSERT_EQ(april.size(), 1U);
    EXPECT_EQ(april[0].backend, BackendKind::iptables);
    EXPECT_TRUE(april[0].also_counted_by.empty());
    EXPECT_EQ(format_report(april, options, later, true).find("counted by"), std::string::npos);
}

// --share-of a family only one backend counted (the policy changed during a move from nft to
// iptables): that backend's section has the shares, the other says it has none. Before, the
// whole report failed as if the policy had no such family.
TEST_F(PeriodTotals, ShareOfAFamilyOfOneBackendOnly) {
    const auto now = at("2026-03-10T10:00:00Z");
    book(totals,
         {sample("wan_in", 10, 1000), sample("lan_out", 5, 500),
          sample("lan_out", 4, 400, {}, BackendKind::iptables)},
         now);
    ReportOptions options;
    options.share_of = "wan";
    const auto reports = build_reports(totals, now, options);
    ASSERT_EQ(reports.size(), 2U);
    EXPECT_TRUE(reports[0].share_of_found);
    const auto& nft = reports[0].periods[0].families;
    ASSERT_EQ(nft.size(), 2U);
    EXPECT_EQ(nft[0].name, "wan");
    EXPECT_DOUBLE_EQ(*nft[0].share, 1.0);
    EXPECT_EQ(nft[1].name, "lan");
    EXPECT_DOUBLE_EQ(*nft[1].share, 0.5);
    EXPECT_FALSE(reports[1].share_of_found);
    const auto& iptables = reports[1].periods[0].families;
    ASSERT_EQ(iptables.size(), 1U);
    EXPECT_EQ(iptables[0].total, (Amount{4, 400}));
    EXPECT_FALSE(iptables[0].share);
    const auto text = format_report(reports, options, now, true);
    EXPECT_NE(text.find("--share-of wan: iptables counted no family or counter wan, so this "
                        "section has no shares\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("nft counted no"), std::string::npos) << text;
    const auto json = report_to_json(reports, options, now);
    EXPECT_EQ(json["policies"][0]["share_of_found"], true);
    EXPECT_EQ(json["policies"][1]["share_of_found"], false);
    // A family neither counted is an error, as for a policy on one backend.
    options.share_of = "nothing";
    EXPECT_THROW(build_reports(totals, now, options), std::invalid_argument);
}

// A file as acctc wrote it before the series had a backend (version 1) loads, each series as
// the backend the caller names (the state store: the one the policy is applied with).
TEST_F(PeriodTotals, Version1FileLoadsAsTheGivenBackend) {
    const auto version1 = nlohmann::json::parse(R"({"format": "acctc-totals", "version": 1,
        "policy": "p", "last_booking": 1773136800, "series": [{"counter": "wan", "host": "",
        "family": "wan", "labels": {}, "baseline": [10, 1000],
        "hours": [[1773136800, 10, 1000]], "days": [[1773100800, 10, 1000]]}]})");
    auto loaded = totals_from_json(version1, BackendKind::iptables_legacy);
    ASSERT_EQ(loaded.series.size(), 1U);
    const auto& [key, series] = *loaded.series.begin();
    EXPECT_EQ(key.backend, BackendKind::iptables_legacy);
    EXPECT_EQ(series.baseline, (Amount{10, 1000}));
    // The next reading of that backend is booked against the old baseline.
    EXPECT_EQ(booked_amount(loaded, {sample("wan", 12, 1200, {}, BackendKind::iptables_legacy)},
                            at("2026-03-10T10:00:00Z")),
              (Amount{2, 200}));
    // Written back as version 2, with the backend.
    const auto written = to_json(loaded);
    EXPECT_EQ(written["version"], 2);
    EXPECT_EQ(written["series"][0]["backend"], "iptables-legacy");
    EXPECT_EQ(to_json(totals_from_json(written)), written);
    auto unknown = written;
    unknown["series"][0]["backend"] = "pf";
    EXPECT_THROW(totals_from_json(unknown), StateError);
}

TEST_F(PeriodTotals, RolloverMovesBookingsToTheNextPeriod) {
    book(totals, {sample("wan", 10, 1000)}, at("2026-03-14T23:30:00Z"));
    book(totals, {sample("wan", 25, 2500)}, at("2026-03-15T00:10:00Z"));
    EXPECT_EQ(month_total(totals, "wan", at("2026-03-14T12:00:00Z"), 15), (Amount{10, 1000}));
    EXPECT_EQ(month_total(totals, "wan", at("2026-03-20T12:00:00Z"), 15), (Amount{15, 1500}));
    EXPECT_EQ(month_total(totals, "wan", at("2026-03-20T12:00:00Z")), (Amount{25, 2500}));
    const auto& series = totals.series.at({BackendKind::nftables, "wan", ""});
    EXPECT_EQ(total_in(series, periods::containing(at("2026-03-15T00:59:00Z"), Length::hour),
                       Length::hour),
              (Amount{15, 1500}));
}

// A clock set back books into the earlier period again; nothing is subtracted or lost.
TEST_F(PeriodTotals, ClockJumpingBackwards) {
    book(totals, {sample("wan", 10, 1000)}, at("2026-03-15T10:00:00Z"));
    book(totals, {sample("wan", 12, 1200)}, at("2026-03-14T10:00:00Z"));
    const auto& series = totals.series.at({BackendKind::nftables, "wan", ""});
    Amount all;
    for (const auto& [begin, amount] : series.days) {
        all += amount;
    }
    EXPECT_EQ(all, (Amount{12, 1200}));
}

TEST_F(PeriodTotals, KeepsTheNewestBuckets) {
    auto now = at("2026-01-01T00:00:00Z");
    for (std::uint64_t i = 1; i <= kept_days + 10; ++i) {
        book(totals, {sample("wan", i, i)}, now);
        now += std::chrono::hours{24};
    }
    const auto& series = totals.series.at({BackendKind::nftables, "wan", ""});
    EXPECT_EQ(series.days.size(), kept_days);
    EXPECT_EQ(series.hours.size(), kept_hours);
}

TEST_F(PeriodTotals, JsonRoundTrip) {
    book(totals, {sample("lan_out", 3, 300, "198.18.0.1"), sample("wan", 7, 700)},
         at("2026-03-10T10:00:00Z"));
    const auto copy = totals_from_json(nlohmann::json::parse(to_json(totals).dump()));
    EXPECT_EQ(to_json(copy), to_json(totals));
    EXPECT_EQ(copy.series.at({BackendKind::nftables, "lan_out", "198.18.0.1"}).labels,
              totals.series.at({BackendKind::nftables, "lan_out", "198.18.0.1"}).labels);
}

TEST_F(PeriodTotals, DamagedJsonIsAnError) {
    book(totals, {sample("wan", 7, 700)}, at("2026-03-10T10:00:00Z"));
    const auto good = to_json(totals);
    auto negative = good;
    negative["series"][0]["days"][0][2] = -5;
    auto twice = good;
    twice["series"].push_back(good["series"][0]);
    auto foreign = good;
    foreign["format"] = "something else";
    auto baseline = good;
    baseline["series"][0]["baseline"] = "many";
    auto bucket = good;
    bucket["series"][0]["hours"][0] = {1, 2};
    for (const auto& bad : {negative, twice, foreign, baseline, bucket, nlohmann::json(42)}) {
        EXPECT_THROW(totals_from_json(bad), StateError) << bad.dump();
    }
}

TEST_F(PeriodTotals, ReportSharesTopAndProjection) {
    const auto now = at("2026-03-11T00:00:00Z"); // 10 of 31 days of March
    book(totals,
         {sample("wan_in", 80, 8000), sample("wan_out", 20, 2000), sample("skype_in", 10, 1240),
          sample("lan_out", 5, 500, "198.18.0.1"), sample("lan_out", 1, 100, "198.18.0.2"),
          sample("lan_out", 2, 200, "198.18.0.3")},
         now);
    ReportOptions options;
    options.share_of = "wan";
    options.top = 2;
    const auto report = build_report(totals, now, options);
    ASSERT_EQ(report.periods.size(), 1U);
    const auto& period = report.periods.front();
    EXPECT_NEAR(period.elapsed, 10.0 / 31, 1e-9);
    ASSERT_EQ(period.families.size(), 3U); // wan, skype, "1 more" (lan)
    EXPECT_EQ(period.families[0].name, "wan");
    EXPECT_EQ(period.families[0].total, (Amount{100, 10000}));
    EXPECT_DOUBLE_EQ(*period.families[0].share, 1.0);
    EXPECT_EQ(*period.families[0].projected, 31000U);
    EXPECT_EQ(period.families[1].name, "skype");
    EXPECT_DOUBLE_EQ(*period.families[1].share, 0.124); // "skype is 12.4 % of wan"
    EXPECT_EQ(period.families[2].kind, "other families");
    EXPECT_EQ(period.families[2].total, (Amount{8, 800}));
    options.top = 0;
    options.share_of = "wan_in";
    const auto hosts = build_report(totals, now, options).periods.front().families;
    const auto& lan = hosts[2];
    ASSERT_EQ(lan.children.size(), 1U);
    ASSERT_EQ(lan.children[0].children.size(), 3U);
    EXPECT_EQ(lan.children[0].children[0].name, "198.18.0.1");
    EXPECT_DOUBLE_EQ(*lan.children[0].children[0].share, 500.0 / 8000);
    options.share_of = "nothing";
    EXPECT_THROW(build_report(totals, now, options), std::invalid_argument);
}

// A share of nothing is no share: where the --share-of counter counted 0 B in a period (a
// counter renamed mid-period: `acctc report --share-of wire` with the old name's bytes), the
// rows have none ("-", no "share" in JSON), not "0.0 %" of bytes that did flow.
TEST_F(PeriodTotals, ReportHasNoShareOfACounterThatCountedNothing) {
    const auto now = at("2026-03-11T00:00:00Z");
    book(totals, {sample("line_out", 20, 10560), sample("wire_out", 0, 0)}, now);
    ReportOptions options;
    options.share_of = "wire";
    const auto report = build_report(totals, now, options);
    const auto& families = report.periods.front().families;
    ASSERT_EQ(families.size(), 2U);
    EXPECT_EQ(families[0].name, "line");
    EXPECT_FALSE(families[0].share) << *families[0].share;
    EXPECT_FALSE(families[1].share);
    const auto text = format_report({report}, options, now, true);
    EXPECT_EQ(text.find("0.0 %"), std::string::npos) << text;
    EXPECT_FALSE(
        report_to_json({report}, options, now)["policies"][0]["periods"][0]["families"][0].contains(
            "share"));
}

// A per-host counter's overflow counter (lan_out_overflow, host=overflow) is the host
// "overflow" of lan_out, as `acctc counters` shows it (docs/periods.md: "under a split host
// counter its hosts"), not a counter of its own beside it.
TEST_F(PeriodTotals, ReportShowsTheOverflowAsAHostOfItsCounter) {
    const auto now = at("2026-03-11T00:00:00Z");
    book(totals,
         {sample("lan_out", 5, 500, "198.18.0.1"), sample("lan_out_overflow", 2, 200, "overflow"),
          sample("lan_in", 1, 100, "198.18.0.1")},
         now);
    ReportOptions options;
    options.share_of = "lan_out";
    const auto families = build_report(totals, now, options).periods.front().families;
    ASSERT_EQ(families.size(), 1U);
    ASSERT_EQ(families[0].children.size(), 2U); // lan_out, lan_in: no lan_out_overflow
    const auto& out = families[0].children[0];
    EXPECT_EQ(out.name, "lan_out");
    EXPECT_EQ(out.total, (Amount{7, 700}));
    ASSERT_EQ(out.children.size(), 2U);
    EXPECT_EQ(out.children[0].name, "198.18.0.1");
    EXPECT_EQ(out.children[1].name, "overflow");
    EXPECT_EQ(out.children[1].kind, "host");
    EXPECT_DOUBLE_EQ(*out.children[1].share, 200.0 / 700);
    EXPECT_EQ(families[0].children[1].name, "lan_in");
}

// The totals keep 192 hour buckets and 400 day buckets, the current one among them: a report
// reaches back max_history periods before the current one, each of them still whole. Before,
// --history 192 (hours) and 400 (days) were accepted and their oldest period, pruned, read 0 B
// although it had been booked.
TEST_F(PeriodTotals, TheLongestHistoryAllowedIsStillKept) {
    for (const Length length : {Length::hour, Length::day}) {
        PolicyTotals kept;
        const auto step =
            length == Length::hour ? std::chrono::seconds(3600) : std::chrono::seconds(86400);
        const auto start = at("2025-01-01T00:30:00Z");
        const std::size_t periods = max_history(length) + 5;
        for (std::size_t i = 0; i <= periods; ++i) {
            // One more byte in every period: the counter reads i+1 at the i-th.
            book(kept, {sample("wan", i + 1, i + 1)}, start + i * step);
        }
        ReportOptions options;
        options.length = length;
        options.history = max_history(length);
        const auto report = build_report(kept, start + periods * step, options);
        ASSERT_EQ(report.periods.size(), max_history(length) + 1);
        for (const auto& period : report.periods) {
            EXPECT_EQ(period.families.at(0).total, (Amount{1, 1}))
                << periods::name(length) << " " << period.period.begin.time_since_epoch().count();
        }
    }
    EXPECT_EQ(max_history(Length::month), 12U);
}

TEST_F(PeriodTotals, ReportHistory) {
    book(totals, {sample("wan", 10, 1000)}, at("2026-02-20T10:00:00Z"));
    book(totals, {sample("wan", 12, 1200)}, at("2026-03-20T10:00:00Z"));
    ReportOptions options;
    options.history = 2;
    options.first_day = 15;
    const auto report = build_report(totals, at("2026-03-21T00:00:00Z"), options);
    ASSERT_EQ(report.periods.size(), 3U);
    EXPECT_TRUE(report.periods[0].current);
    EXPECT_EQ(report.periods[0].families[0].total, (Amount{2, 200}));
    EXPECT_EQ(report.periods[1].period.begin, at("2026-02-15T00:00:00Z"));
    EXPECT_EQ(report.periods[1].families[0].total, (Amount{10, 1000}));
    EXPECT_FALSE(report.periods[1].families[0].projected);
    EXPECT_EQ(report.periods[2].families[0].total, (Amount{0, 0}));
}

} // namespace
} // namespace acctc::runtime
