#include "acctc/counter_labels.hpp"
#include "acctc/runtime/counter_report.hpp"
#include "acctc/runtime/exposition.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

TEST(Exposition, HelpTypeAndOneSamplePerCounter) {
    const std::vector<CounterSample> samples{{"brewery", "dept_a_link", 12, 3400},
                                             {"skype", "skype_tcp_in", 0, 0}};
    EXPECT_EQ(format_prometheus(samples),
              "# HELP acctc_packets_total Packets counted by an acctc policy counter.\n"
              "# TYPE acctc_packets_total counter\n"
              "acctc_packets_total{policy=\"brewery\",counter=\"dept_a_link\"} 12\n"
              "acctc_packets_total{policy=\"skype\",counter=\"skype_tcp_in\"} 0\n"
              "# HELP acctc_bytes_total Bytes (layer 3 and up) counted by an acctc policy "
              "counter.\n"
              "# TYPE acctc_bytes_total counter\n"
              "acctc_bytes_total{policy=\"brewery\",counter=\"dept_a_link\"} 3400\n"
              "acctc_bytes_total{policy=\"skype\",counter=\"skype_tcp_in\"} 0\n");
}

TEST(Exposition, LabelValuesAreEscaped) {
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    // UTF-8 as it is; a byte that is not UTF-8 (it would fail the whole scrape) as U+FFFD.
    EXPECT_EQ(escape_label_value("caf\xc3\xa9 \xff"), "caf\xc3\xa9 \xef\xbf\xbd");
    const std::string text = format_prometheus({{"p\"", "c\\", 18446744073709551615ULL, 1}});
    EXPECT_NE(text.find("acctc_packets_total{policy=\"p\\\"\",counter=\"c\\\\\"} "
                        "18446744073709551615\n"),
              std::string::npos);
}

// split opener: the half of Skype's bytes on connections peers opened, as a label.
TEST(Exposition, OpenerIsALabelOfTheFamily) {
    const std::string comment = "acctc1 f=5 direction=in protocol=udp opener=remote @s.acct:9";
    const CounterIdentity identity = decode_counter_comment("skype_udp_in_remote", comment);
    ASSERT_EQ(identity.family, "skype");
    ASSERT_EQ(identity.labels.size(), 3U);
    EXPECT_EQ(identity.labels[2], (Label{Dimension::opener, "remote"}));
    const CounterSample sample{"home", "skype_udp_in_remote", 12, 804,
                               CounterDescription::of(identity)};
    EXPECT_NE(format_prometheus({sample}).find(
                  "acctc_bytes_total{policy=\"home\",counter=\"skype\",direction=\"in\","
                  "protocol=\"udp\",opener=\"remote\"} 804\n"),
              std::string::npos);
    const auto json = counters_to_json({{sample}});
    ASSERT_EQ(json.size(), 1U);
    EXPECT_EQ(json[0]["counter"], "skype");
    EXPECT_EQ(json[0]["labels"]["opener"], "remote");
    EXPECT_EQ(json[0]["labels"]["direction"], "in");
}

TEST(Exposition, NoCountersStillDescribesTheFamilies) {
    const std::string text = format_prometheus({});
    EXPECT_NE(text.find("# TYPE acctc_packets_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE acctc_bytes_total counter\n"), std::string::npos);
    EXPECT_EQ(text.find("{"), std::string::npos);
}

} // namespace
} // namespace acctc::runtime
