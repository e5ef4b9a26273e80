// The strict exposition parser must itself reject bad text, or the exporter tests prove nothing.
#include "support/exposition_parser.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace acctc::recording::testing {
namespace {

TEST(ExpositionParser, ReadsFamiliesLabelsAndValues) {
    const auto families = parse_exposition("# HELP a_total Things\\nseen \\\\ here.\n"
                                           "# TYPE a_total counter\n"
                                           "a_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 12\n"
                                           "a_total{x=\"2\",} 1.5e3 1700000000000\n"
                                           "\n# a plain comment\n"
                                           "b NaN\n"
                                           "# TYPE h histogram\n"
                                           "h_bucket{le=\"+Inf\"} 3\nh_sum 4\nh_count 3\n"
                                           "c { l = \"v\" } -Inf\n");
    ASSERT_EQ(families.size(), 4U);
    EXPECT_EQ(families[0].name, "a_total");
    EXPECT_EQ(families[0].type, "counter");
    EXPECT_EQ(families[0].help, "Things\nseen \\ here.");
    ASSERT_EQ(families[0].samples.size(), 2U);
    EXPECT_EQ(families[0].samples[0].labels.at("y"), "q\"\\\n");
    EXPECT_EQ(families[0].samples[0].value, 12);
    EXPECT_EQ(families[0].samples[1].value, 1500);
    EXPECT_EQ(families[0].samples[1].timestamp_ms, 1700000000000);
    EXPECT_EQ(families[1].type, "untyped");
    EXPECT_TRUE(std::isnan(families[1].samples[0].value));
    EXPECT_EQ(families[2].samples.size(), 3U);
    EXPECT_EQ(families[3].samples[0].labels.at("l"), "v");
    EXPECT_TRUE(parse_exposition("").empty());
}

class ExpositionRejection : public ::testing::TestWithParam<const char*> {};

TEST_P(ExpositionRejection, Throws) {
    EXPECT_THROW(parse_exposition(GetParam()), ExpositionError) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Invalid, ExpositionRejection,
    ::testing::Values("a 1", // no final newline
                      "a 1\r\n", "1a 1\n", "a{1=\"x\"} 1\n", "a{__name__=\"x\"} 1\n",
                      "a{x=\"1\",x=\"2\"} 1\n", "a{x=\"\\t\"} 1\n", "a{x=\"1\" 1\n", "a{x=1} 1\n",
                      "a{x=\"\xff\"} 1\n", "a\n", "a one\n", "a 0x10\n", "a 1 2 3\n", "a 1 1.5\n",
                      "a{x=\"1\"}1\n", "# TYPE a counter\n# TYPE a counter\na 1\n",
                      "# TYPE a gauge\n# HELP a x\n# HELP a y\na 1\n", "a 1\n# TYPE a counter\n",
                      "# TYPE a bogus\na 1\n", "a 1\nb 1\na 2\n", "a{x=\"1\"} 1\na{x=\"1\"} 2\n",
                      "# HELP a bad \\t escape\na 1\n", "# TYPE a counter extra\na 1\n"));

} // namespace
} // namespace acctc::recording::testing
