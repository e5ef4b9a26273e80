#include "acctc/runtime/counter_report.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

const std::vector<CounterReading> readings{
    reading_of("brewery", "dept_a_link", 1234567, 1536, {"dept_a_link", {}, {}, "b.acct:7"}),
    {{"brewery", "icmp", 5, 999}}};

TEST(CounterReport, HumanUnits) {
    EXPECT_EQ(format_count(999, false), "999");
    EXPECT_EQ(format_count(1234567, false), "1.23M");
    EXPECT_EQ(format_bytes(1536, false), "1.54kB");
    EXPECT_EQ(format_bytes(999, false), "999B");
    EXPECT_EQ(format_bytes(2'500'000'000, false), "2.50GB");
    EXPECT_EQ(format_bytes(1536, true), "1536");
}

TEST(CounterReport, AlignedTable) {
    EXPECT_EQ(format_counter_table(readings, false),
              "POLICY   COUNTER      PACKETS   BYTES  ORIGIN\n"
              "brewery  dept_a_link    1.23M  1.54kB  b.acct:7\n"
              "brewery  icmp               5    999B\n");
    EXPECT_EQ(format_counter_table(readings, true),
              "POLICY   COUNTER      PACKETS  BYTES  ORIGIN\n"
              "brewery  dept_a_link  1234567   1536  b.acct:7\n"
              "brewery  icmp               5    999\n");
}

// The readings after 200 more packets of dept_a_link and a reset of icmp (then 1 packet).
std::vector<CounterReading> readings_later() {
    std::vector<CounterReading> later = readings;
    later[0].sample.packets += 200;
    later[0].sample.bytes += 1000;
    later[1].sample.packets = 1; // reset meanwhile: the whole value is the change
    later[1].sample.bytes = 100;
    return later;
}

TEST(CounterReport, RatesAgainstThePreviousReading) {
    const std::vector<CounterReading> later = readings_later();
    EXPECT_EQ(format_rate_table(readings, later, 2.0, true),
              "POLICY   COUNTER      PACKETS  BYTES  PACKETS/S  BITS/S\n"
              "brewery  dept_a_link  1234767   2536        100    4000\n"
              "brewery  icmp               1    100          1     400\n");
}

TEST(CounterReport, RatesAsJson) {
    const std::vector<CounterReading> later = readings_later();
    const auto json = rates_to_json(readings, later, 2.0);
    ASSERT_EQ(json.size(), 2U);
    EXPECT_EQ(json[0]["packets"], 1234767);
    EXPECT_EQ(json[0]["delta_packets"], 200);
    EXPECT_EQ(json[0]["delta_bytes"], 1000);
    EXPECT_EQ(json[0]["packets_per_second"], 100.0);
    EXPECT_EQ(json[0]["bits_per_second"], 4000.0);
    EXPECT_EQ(json[1]["delta_packets"], 1);
    EXPECT_EQ(json[1]["bits_per_second"], 400.0);
}

TEST(CounterReport, Json) {
    const auto json = counters_to_json(readings);
    ASSERT_EQ(json.size(), 2U);
    EXPECT_EQ(json[0]["packets"], 1234567);
    EXPECT_EQ(json[0]["origin"], "b.acct:7");
    EXPECT_EQ(json[1]["counter"], "icmp");
}

// A label from a hand-made object comment (or any string acctc did not write) is printed on its
// row's one line: control characters and bytes that are not UTF-8 escaped, UTF-8 as it is and
// aligned by its code points.
TEST(CounterReport, ControlCharactersAreEscapedInTheTable) {
    std::string direction = "in\r\x85\xff";
    direction.insert(3, "\xc2");
    const CounterReading evil =
        reading_of("p", "c\nfake  row", 1, 2,
                   {"c\nfake  row", {}, {{Dimension::direction, direction}}, "x.acct:1\x1b[2J"});
    const CounterReading utf8 = reading_of("p", "café", 3, 4, {"café", {}, {}, "é.acct:2"});
    EXPECT_EQ(format_counter_table({evil, utf8}, true),
              "POLICY  COUNTER       DIRECTION         PACKETS  BYTES  ORIGIN\n"
              "p       c\\nfake  row  in\\r\\xc2\\x85\\xff        1      2  x.acct:1\\x1b[2J\n"
              "p       café                                  3      4  é.acct:2\n");
    const auto json =
        counters_to_json({evil}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    EXPECT_EQ(json.find('\n'), std::string::npos);
    EXPECT_NE(json.find("c\\nfake  row"), std::string::npos);
    EXPECT_NE(json.find("x.acct:1\\u001b[2J"), std::string::npos);
}

} // namespace
} // namespace acctc::runtime
