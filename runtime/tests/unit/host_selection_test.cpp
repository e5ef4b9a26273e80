#include "acctc/runtime/exposition.hpp"
#include "acctc/runtime/host_selection.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

CounterReading host(const std::string& counter, const std::string& address, std::uint64_t packets,
                    std::uint64_t bytes) {
    return {{"p", counter, packets, bytes, CounterDescription::of({counter, {}, {}, "p.acct:1"}),
             address}};
}

// A split host counter's overflow: host=overflow is a label of its own description.
CounterSample overflow(std::uint64_t packets, std::uint64_t bytes) {
    return {"p", "lan_overflow", packets, bytes,
            CounterDescription::of({"lan", {}, {{Dimension::host, "overflow"}}, ""})};
}

TEST(HostSelection, FiltersSortsAndKeepsTheTop) {
    const std::vector<CounterReading> readings{host("lan", "198.18.0.1", 5, 100),
                                               host("lan", "198.18.0.2", 1, 900),
                                               host("lan", "198.18.0.3", 9, 50),
                                               host("wan", "198.18.0.1", 7, 70),
                                               {overflow(2, 20)}};
    auto by_bytes = select_readings(readings, {{}, SortKey::bytes, 2});
    ASSERT_EQ(by_bytes.size(), 2U);
    EXPECT_EQ(by_bytes[0].sample.label(Dimension::host), "198.18.0.2");
    EXPECT_EQ(by_bytes[1].sample.label(Dimension::host), "198.18.0.1");
    auto by_packets = select_readings(readings, {{}, SortKey::packets, 1});
    ASSERT_EQ(by_packets.size(), 1U);
    EXPECT_EQ(by_packets[0].sample.packets, 9U);
    auto one_host = select_readings(readings, {{"198.18.0.1"}, std::nullopt, std::nullopt});
    ASSERT_EQ(one_host.size(), 2U);
    EXPECT_EQ(one_host[0].sample.counter, "lan");
    EXPECT_EQ(one_host[1].sample.counter, "wan");
    EXPECT_EQ(select_readings(readings, {}).size(), readings.size());
}

// --host ADDRESS is spelled as the readings spell hosts, whatever the user typed.
TEST(HostSelection, CanonicalHostAddresses) {
    EXPECT_EQ(canonical_host_address("2001:DB8:0:1:0:0:0:10"), "2001:db8:0:1::10");
    EXPECT_EQ(canonical_host_address("2001:0db8:0000:0001::0010"), "2001:db8:0:1::10");
    EXPECT_EQ(canonical_host_address("198.18.1.10"), "198.18.1.10");
    EXPECT_EQ(canonical_host_address("AA:bb:0C:dd:ee:FF"), "aa:bb:0c:dd:ee:ff");
    EXPECT_EQ(canonical_host_address("bogus"), std::nullopt);
    EXPECT_EQ(canonical_host_address("198.18.1.10/32"), std::nullopt);
    EXPECT_EQ(canonical_host_address(""), std::nullopt);
}

TEST(HostSelection, PrometheusCapSumsTheRestIntoOther) {
    std::vector<CounterSample> samples;
    for (int i = 0; i < 5; ++i) {
        samples.push_back(host("lan", "198.18.0." + std::to_string(i), 1, 10 * (i + 1)).sample);
    }
    samples.push_back(overflow(3, 30));
    const auto capped = cap_host_series(samples, 2);
    ASSERT_EQ(capped.size(), 4U); // overflow, the two largest, other
    EXPECT_EQ(capped[0].label(Dimension::host), "overflow");
    EXPECT_EQ(capped[1].label(Dimension::host), "198.18.0.4");
    EXPECT_EQ(capped[2].label(Dimension::host), "198.18.0.3");
    EXPECT_EQ(capped[3].label(Dimension::host), "other");
    EXPECT_EQ(capped[3].packets, 3U);
    EXPECT_EQ(capped[3].bytes, 60U); // 10 + 20 + 30
    EXPECT_EQ(cap_host_series(samples, 10).size(), 6U);
    const std::string text = format_prometheus(samples, 2);
    EXPECT_NE(text.find("acctc_bytes_total{policy=\"p\",counter=\"lan\",host=\"other\"} 60\n"),
              std::string::npos);
}

} // namespace
} // namespace acctc::runtime
