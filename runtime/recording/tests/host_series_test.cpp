// Which hosts of a `split host` counter `acctc record` keeps on their own: the top N by bytes,
// those recorded before, and the rest summed as COUNTER@other.
#include "acctc/recording/host_series.hpp"

#include <gtest/gtest.h>
#include <set>

namespace acctc::recording {
namespace {

using runtime::CounterSample;

CounterSample host(const std::string& address, std::uint64_t bytes) {
    return {"p",
            "lan_in",
            bytes / 100,
            bytes,
            runtime::CounterDescription::of({"lan", {}, {{Dimension::direction, "in"}}, ""}),
            address};
}

const CounterSample* find(const std::vector<CounterSample>& samples, const std::string& name) {
    for (const auto& s : samples) {
        if (s.counter == name) {
            return &s;
        }
    }
    return nullptr;
}

TEST(HostSeries, TopHostsOnTheirOwnTheRestSummedAsOther) {
    const std::vector<CounterSample> samples{
        host("198.18.0.1", 100),
        host("198.18.0.2", 900),
        host("198.18.0.3", 500),
        host("198.18.0.4", 300),
        {"p", "lan_in_overflow", 1, 60,
         runtime::CounterDescription::of(
             {"lan", {}, {{Dimension::direction, "in"}, {Dimension::host, "overflow"}}, ""})},
        {"p", "plain", 2, 200, runtime::CounterDescription::of({"plain", {}, {}, ""})}};
    const auto out = host_series(samples, 2, [](const CounterSample&) { return false; });
    ASSERT_NE(find(out, "lan_in@198.18.0.2"), nullptr);
    ASSERT_NE(find(out, "lan_in@198.18.0.3"), nullptr);
    EXPECT_EQ(find(out, "lan_in@198.18.0.1"), nullptr);
    EXPECT_EQ(find(out, "lan_in@198.18.0.4"), nullptr);
    const auto* other = find(out, "lan_in@other");
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->bytes, 400U);
    EXPECT_EQ(other->packets, 4U);
    EXPECT_EQ(other->label(Dimension::host), "other");
    EXPECT_EQ(other->label(Dimension::direction), "in");
    EXPECT_EQ(find(out, "lan_in@198.18.0.2")->label(Dimension::host), "198.18.0.2");
    EXPECT_NE(find(out, "lan_in_overflow"), nullptr); // a counter of its own
    EXPECT_NE(find(out, "plain"), nullptr);
    EXPECT_EQ(out.size(), 5U);
}

TEST(HostSeries, AHostRecordedBeforeStaysOnItsOwn) {
    const std::vector<CounterSample> samples{host("198.18.0.1", 100), host("198.18.0.2", 900)};
    const std::set<std::string> recorded{"lan_in@198.18.0.1"};
    const auto out = host_series(samples, 1, [&](const CounterSample& series) {
        return recorded.count(series.counter) != 0;
    });
    EXPECT_NE(find(out, "lan_in@198.18.0.1"), nullptr);
    EXPECT_NE(find(out, "lan_in@198.18.0.2"), nullptr);
    EXPECT_EQ(find(out, "lan_in@other")->bytes, 0U);
}

} // namespace
} // namespace acctc::recording
