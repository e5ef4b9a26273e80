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
    const std::string text = format_prometheus({{"p\"", "c\\", 18446744073709551615ULL, 1}});
    EXPECT_NE(text.find("acctc_packets_total{policy=\"p\\\"\",counter=\"c\\\\\"} "
                        "18446744073709551615\n"),
              std::string::npos);
}

TEST(Exposition, NoCountersStillDescribesTheFamilies) {
    const std::string text = format_prometheus({});
    EXPECT_NE(text.find("# TYPE acctc_packets_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE acctc_bytes_total counter\n"), std::string::npos);
    EXPECT_EQ(text.find("{"), std::string::npos);
}

} // namespace
} // namespace acctc::runtime
