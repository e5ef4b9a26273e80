#include "intervals.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace acctc {
namespace {

TEST(Intervals, AddMergesOverlappingAndAdjacent) {
    IntervalSet set;
    set.add(10, 20);
    set.add(30, 40);
    set.add(21, 29);
    ASSERT_EQ(set.parts().size(), 1U);
    EXPECT_EQ(set.parts()[0], (Interval{10, 40}));
    set.add(0, 5);
    EXPECT_EQ(set.parts().size(), 2U);
    EXPECT_TRUE(set.contains(3));
    EXPECT_FALSE(set.contains(7));
}

TEST(Intervals, MinusAndIntersect) {
    const IntervalSet all = IntervalSet::range(0, 65535);
    IntervalSet essential;
    essential.add(20, 21);
    essential.add(25, 25);
    essential.add(80, 80);
    const IntervalSet rest = all.minus(essential);
    ASSERT_EQ(rest.parts().size(), 4U); // the Guide's 1:19 22:24 26:79 81:...
    EXPECT_EQ(rest.parts()[1], (Interval{22, 24}));
    EXPECT_EQ(rest.intersect(essential).parts().size(), 0U);
    EXPECT_EQ(all.intersect(essential), essential);
}

TEST(Intervals, FullWidthValuesDoNotOverflow) {
    IntervalSet set;
    set.add(0, ~u128{0});
    set.add(5, 6);
    ASSERT_EQ(set.parts().size(), 1U);
    EXPECT_EQ(set.size_saturated(), ~u128{0});
    EXPECT_TRUE(set.minus(set).empty());
}

TEST(Intervals, PrefixesCoverExactlyTheInterval) {
    const auto prefixes = to_prefixes({0xC6120000, 0xC61200FF}, 32); // 198.18.0.0/24
    ASSERT_EQ(prefixes.size(), 1U);
    EXPECT_EQ(prefixes[0].length, 24U);
    const auto split = to_prefixes({3, 9}, 32); // 3/32, 4/30, 8/31
    ASSERT_EQ(split.size(), 3U);
    EXPECT_EQ(split[1].base, u128{4});
    EXPECT_EQ(split[1].length, 30U);
    EXPECT_EQ(to_prefixes({0, ~u128{0}}, 128).front().length, 0U);
}

TEST(Intervals, AddMergesEveryPartTheNewIntervalTouches) {
    IntervalSet set;
    for (u128 v : {50, 10, 30, 70, 90}) {
        set.add(v, v + 1);
    }
    set.add(12, 69); // joins 10-11, swallows 30-31 and 50-51, touches 70-71
    ASSERT_EQ(set.parts().size(), 2U);
    EXPECT_EQ(set.parts()[0], (Interval{10, 71}));
    EXPECT_EQ(set.parts()[1], (Interval{90, 91}));
    set.add(~u128{0} - 1, ~u128{0});
    set.add(92, ~u128{0} - 2);
    ASSERT_EQ(set.parts().size(), 2U);
    EXPECT_EQ(set.parts()[1], (Interval{90, ~u128{0}}));
    set.add(0, 0);
    EXPECT_EQ(set.parts().front(), (Interval{0, 0}));
}

TEST(Intervals, OfSortsAndMergesOnceAndUnionMergesLinearly) {
    const IntervalSet set = IntervalSet::of({{40, 41}, {1, 3}, {4, 9}, {20, 30}, {25, 26}, {42, 42}});
    ASSERT_EQ(set.parts().size(), 3U);
    EXPECT_EQ(set.parts()[0], (Interval{1, 9}));
    EXPECT_EQ(set.parts()[1], (Interval{20, 30}));
    EXPECT_EQ(set.parts()[2], (Interval{40, 42}));
    IntervalSet other = IntervalSet::of({{10, 19}, {50, 60}, {0, 0}});
    other.add(set);
    ASSERT_EQ(other.parts().size(), 3U);
    EXPECT_EQ(other.parts()[0], (Interval{0, 30}));
    EXPECT_EQ(other.parts()[2], (Interval{50, 60}));
    EXPECT_EQ(IntervalSet::of({{0, ~u128{0}}, {5, 6}}), IntervalSet::range(0, ~u128{0}));
    // A large list in reverse order is one pass.
    std::vector<Interval> many;
    for (u128 v = 200000; v > 0; v -= 2) {
        many.push_back({v, v});
    }
    EXPECT_EQ(IntervalSet::of(many).parts().size(), 100000U);
}

// Prefix length 0 and full width: a /0 of IPv6 once shifted a 128-bit value by 128.
TEST(Intervals, MasksForEveryPrefixLength) {
    EXPECT_EQ(low_bits(0), u128{0});
    EXPECT_EQ(low_bits(1), u128{1});
    EXPECT_EQ(low_bits(32), u128{0xffffffff});
    EXPECT_EQ(low_bits(127), ~u128{0} >> 1);
    EXPECT_EQ(low_bits(128), ~u128{0});
    EXPECT_EQ(prefix_interval({0, 0}, 128), (Interval{0, ~u128{0}}));
    EXPECT_EQ(prefix_interval({0, 0}, 32), (Interval{0, 0xffffffff}));
    EXPECT_EQ(prefix_interval({0xC6120001, 32}, 32), (Interval{0xC6120001, 0xC6120001}));
    EXPECT_EQ(prefix_interval({~u128{0}, 128}, 128), (Interval{~u128{0}, ~u128{0}}));
    EXPECT_EQ(prefix_interval({u128{1} << 127, 1}, 128), (Interval{u128{1} << 127, ~u128{0}}));
    for (unsigned width : {32U, 128U}) {
        const auto whole = to_prefixes({0, low_bits(width)}, width);
        ASSERT_EQ(whole.size(), 1U);
        EXPECT_EQ(whole[0].length, 0U);
        const auto top = to_prefixes({low_bits(width), low_bits(width)}, width);
        ASSERT_EQ(top.size(), 1U);
        EXPECT_EQ(top[0].length, width);
        // Everything but the first address: one prefix per length 1..width.
        const auto rest = to_prefixes({1, low_bits(width)}, width);
        ASSERT_EQ(rest.size(), width);
        EXPECT_EQ(rest.front().length, width);
        EXPECT_EQ(rest.back().length, 1U);
        EXPECT_EQ(prefix_interval(rest.back(), width).hi, low_bits(width));
    }
}

TEST(Intervals, AddressFormatting) {
    EXPECT_EQ(format_ipv4(0xC6120001), "198.18.0.1");
    EXPECT_EQ(format_ipv6((u128{0x20010db8} << 96) | 1), "2001:db8::1");
}

} // namespace
} // namespace acctc
