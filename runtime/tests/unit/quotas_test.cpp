// Quota readings without the kernel: state and exit status at the levels' edges, the comment
// that carries a quota's period, and the Prometheus gauges.
#include "acctc/runtime/exposition.hpp"
#include "acctc/runtime/quotas.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

QuotaReading reading(std::uint64_t used) {
    QuotaReading r;
    r.policy = "home";
    r.quota = "line";
    r.used = used;
    r.warn = 800;
    r.limit = 1000;
    r.identity = {"line", QuotaRole::limit, QuotaPeriod::month, 15, true, "home.acct:9"};
    return r;
}

TEST(Quotas, StatesChangeWhereTheKernelSaysDepleted) {
    EXPECT_EQ(reading(799).state(), QuotaState::under);
    EXPECT_EQ(reading(800).state(), QuotaState::warning);
    EXPECT_EQ(reading(999).state(), QuotaState::warning);
    EXPECT_EQ(reading(1000).state(), QuotaState::exhausted);
}

TEST(Quotas, ExitStatusIsTheWorstQuota) {
    EXPECT_EQ(quota_exit_status({}), 0);
    EXPECT_EQ(quota_exit_status({reading(0), reading(799)}), 0);
    EXPECT_EQ(quota_exit_status({reading(0), reading(800)}), 1);
    EXPECT_EQ(quota_exit_status({reading(1000), reading(800)}), 3);
}

TEST(Quotas, CommentRoundTrips) {
    const QuotaIdentity identity{
        "line", QuotaRole::warn, QuotaPeriod::month, 15, true, "/etc/acctc/home policy.acct:9"};
    const std::string comment = encode_quota_comment(identity);
    EXPECT_EQ(comment, "acctcq1 q=4 role=warn per=month/15 drop @/etc/acctc/home%20policy.acct:9");
    EXPECT_EQ(decode_quota_comment("line_warn", comment), identity);
    // Another object's name, or another kind of comment, is no quota of acctc's.
    EXPECT_FALSE(decode_quota_comment("line", comment));
    EXPECT_FALSE(decode_quota_comment("line_warn", "acctc1 f=4"));
    EXPECT_FALSE(decode_quota_comment("line", "acctcq1 q=4 role=limit per=month/31"));
    EXPECT_FALSE(decode_quota_comment("line", "acctcq1 q=5 role=limit per=day"));
    const QuotaIdentity daily{"q", QuotaRole::limit, QuotaPeriod::day, 1, false, ""};
    EXPECT_EQ(decode_quota_comment("q", encode_quota_comment(daily)), daily);
}

TEST(Quotas, LongOriginsAreCutFromTheLeftToFit) {
    const QuotaIdentity identity{"line",
                                 QuotaRole::limit,
                                 QuotaPeriod::hour,
                                 1,
                                 false,
                                 "/" + std::string(300, 'a') + " b.acct:12"};
    const std::string comment = encode_quota_comment(identity);
    EXPECT_LE(comment.size(), nft_comment_limit);
    const auto decoded = decode_quota_comment("line", comment);
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->origin.starts_with("..."));
    EXPECT_TRUE(decoded->origin.ends_with("a b.acct:12"));
}

TEST(Quotas, PrometheusGauges) {
    const std::string text = format_quota_prometheus({reading(900)});
    EXPECT_NE(text.find("# TYPE acctc_quota_used_bytes gauge\n"
                        "acctc_quota_used_bytes{policy=\"home\",quota=\"line\",period=\"month\"} "
                        "900\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("acctc_quota_limit_bytes{policy=\"home\",quota=\"line\",period=\"month\"} "
                        "1000\n"),
              std::string::npos);
    EXPECT_NE(
        text.find("acctc_quota_warning_bytes{policy=\"home\",quota=\"line\",period=\"month\"} "
                  "800\n"),
        std::string::npos);
}

QuotaReading host_reading(const std::string& host, std::uint64_t used) {
    QuotaReading r = reading(used);
    r.per_host = true;
    r.host = host;
    return r;
}

// Per-host quotas: a host label, at most max_hosts hosts per quota (the most used; ties kept in
// order), no sample for a quota no host has charged yet.
TEST(Quotas, PerHostGaugesAreCappedToTheMostUsedHosts) {
    QuotaReading none = reading(0);
    none.quota = "idle";
    none.per_host = true;
    none.identity.period = QuotaPeriod::day;
    const std::string text = format_quota_prometheus(
        {host_reading("198.18.0.1", 10), host_reading("198.18.0.2", 900),
         host_reading("198.18.0.3", 500), host_reading("198.18.0.4", 500), none},
        3);
    const auto used = [](const std::string& host, const std::string& value) {
        return "acctc_quota_used_bytes{policy=\"home\",quota=\"line\",period=\"month\",host=\"" +
               host + "\"} " + value + "\n";
    };
    EXPECT_NE(text.find(used("198.18.0.2", "900")), std::string::npos) << text;
    EXPECT_NE(text.find(used("198.18.0.3", "500")), std::string::npos) << text;
    EXPECT_NE(text.find(used("198.18.0.4", "500")), std::string::npos) << text;
    EXPECT_EQ(text.find("198.18.0.1"), std::string::npos) << text;
    EXPECT_EQ(text.find("idle"), std::string::npos) << text;
    EXPECT_EQ(format_quota_prometheus({host_reading("198.18.0.1", 10)}, 0).find("198.18"),
              std::string::npos);
}

TEST(Quotas, PerHostTableAndJson) {
    QuotaReading none = reading(0);
    none.quota = "idle";
    none.per_host = true;
    const std::vector<QuotaReading> readings{reading(100), host_reading("198.18.0.2", 900), none};
    const std::string table = format_quota_table(readings, true);
    EXPECT_NE(table.find("HOST"), std::string::npos) << table;
    EXPECT_NE(table.find("198.18.0.2"), std::string::npos) << table;
    EXPECT_NE(table.find("(none yet)"), std::string::npos) << table;
    EXPECT_EQ(format_quota_table({reading(100)}, true).find("HOST"), std::string::npos);
    const auto json = quotas_to_json(readings);
    EXPECT_EQ(json[0]["per_host"], false);
    EXPECT_TRUE(json[0]["host"].is_null());
    EXPECT_EQ(json[1]["host"], "198.18.0.2");
    EXPECT_EQ(json[1]["state"], "warning");
    EXPECT_TRUE(json[2]["per_host"].get<bool>() && json[2]["host"].is_null());
    // "period": {"length", "start_day"} (docs/runtime.md): start_day null without a billing day.
    for (const auto& quota : json) {
        ASSERT_TRUE(quota["period"].contains("start_day")) << quota.dump();
        EXPECT_EQ(quota["period"]["start_day"].is_null(), quota["period"]["length"] != "month");
    }
    EXPECT_EQ(quota_exit_status(readings), 1);
}

TEST(Quotas, WarningLevelOfPerHostSetsRoundTrips) {
    const QuotaIdentity identity{"kids", QuotaRole::limit, QuotaPeriod::day, 1, true, "a:1", 1500};
    const std::string comment = encode_quota_comment(identity);
    EXPECT_EQ(comment, "acctcq1 q=4 role=limit per=day drop warn=1500 @a:1");
    EXPECT_EQ(decode_quota_comment("kids", comment), identity);
    EXPECT_FALSE(decode_quota_comment("kids", "acctcq1 q=4 role=limit per=day warn=x"));
}

} // namespace
} // namespace acctc::runtime
