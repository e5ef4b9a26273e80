#include "nft_element_counters.hpp"

#include <gtest/gtest.h>
#include <string>

namespace acctc::runtime {
namespace {

// The read sums the elements of a class by name, in the names' byte order, whatever order the
// kernel sent them in; the order key (the first 16 bytes as numbers) must agree with the bytes.
TEST(ElementCounterSums, SumsByNameInByteOrder) {
    ElementCounterSums elements;
    elements.add("svc_c10 acctc1 f=3 class=c10", 1, 10);
    elements.add("svc_c9 acctc1 f=3 class=c9", 2, 20);
    elements.add("svc_a_long_name_past_16_bytes_2 acctc1 f=3", 3, 30);
    elements.add("svc_c10 acctc1 f=3 class=c10", 4, 40);
    elements.add("svc_a_long_name_past_16_bytes_1 acctc1 f=3", 5, 50);
    elements.add("nocomment", 6, 60); // no counter name: left out
    elements.add("svc_\xff acctc1 f=3", 7, 70);
    elements.add("svc_c1 acctc1 f=3 class=c1", 8, 80);
    const auto sums = elements.sums();
    ASSERT_EQ(sums.size(), 6U);
    EXPECT_EQ(sums[0].name, "svc_a_long_name_past_16_bytes_1");
    EXPECT_EQ(sums[1].name, "svc_a_long_name_past_16_bytes_2");
    EXPECT_EQ(sums[2].name, "svc_c1");
    EXPECT_EQ(sums[3].name, "svc_c10");
    EXPECT_EQ(sums[3].comment, "acctc1 f=3 class=c10");
    EXPECT_EQ(sums[3].packets, 5U);
    EXPECT_EQ(sums[3].bytes, 50U);
    EXPECT_EQ(sums[4].name, "svc_c9");
    EXPECT_EQ(sums[5].name, "svc_\xff"); // bytes compare unsigned
    for (std::size_t i = 1; i < sums.size(); ++i) {
        EXPECT_LT(sums[i - 1].name, sums[i].name);
    }
}

// A plain dump interrupted by a ruleset change is taken again: what it added is undone.
TEST(ElementCounterSums, UndoDropsAnInterruptedDump) {
    ElementCounterSums elements;
    elements.add("a_x acctc1 f=1", 1, 1);
    const auto mark = elements.mark();
    elements.add("a_x acctc1 f=1", 5, 5);
    elements.add("a_y acctc1 f=1", 5, 5);
    elements.undo(mark);
    const auto sums = elements.sums();
    ASSERT_EQ(sums.size(), 1U);
    EXPECT_EQ(sums[0].packets, 1U);
}

// The comments live in chunks of a MiB that never move: an undo across a chunk keeps the views
// of what came before valid, and what follows is stored after them.
TEST(ElementCounterSums, UndoAcrossChunksKeepsEarlierCommentsAndStoresLaterOnes) {
    ElementCounterSums elements;
    elements.add("a_first acctc1 f=1 @first", 1, 1);
    const auto mark = elements.mark();
    const std::string padding(100, 'x');
    for (int i = 0; i < 20000; ++i) { // ~2.5 MB: three chunks
        elements.add("b_" + std::to_string(i) + " acctc1 f=1 @" + padding, 1, 1);
    }
    elements.undo(mark);
    for (int i = 0; i < 20000; ++i) {
        elements.add("c_" + std::to_string(i % 100) + " acctc1 f=1 @" + padding, 1, 2);
    }
    const auto sums = elements.sums();
    ASSERT_EQ(sums.size(), 101U);
    EXPECT_EQ(sums[0].name, "a_first");
    EXPECT_EQ(sums[0].comment, "acctc1 f=1 @first");
    EXPECT_EQ(sums[1].name, "c_0");
    EXPECT_EQ(sums[1].comment, "acctc1 f=1 @" + padding);
    EXPECT_EQ(sums[1].packets, 200U);
    EXPECT_EQ(sums[1].bytes, 400U);
}

// A read of a table no reload changed takes the last read's order (no sort) and says its
// comments are unchanged; one changed comment, or one element more, sorts again.
TEST(ElementCounterSums, TheLastReadsOrderServesTheSameElements) {
    const auto read = [](const std::string& changed, bool one_more) {
        ElementCounterSums elements;
        elements.add("svc_c2 acctc1 f=3 class=c2", 1, 10);
        elements.add("svc_c1 acctc1 f=3 class=c1" + changed, 2, 20);
        elements.add("svc_c2 acctc1 f=3 class=c2", 3, 30);
        if (one_more) {
            elements.add("svc_c0 acctc1 f=3 class=c0", 4, 40);
        }
        return elements;
    };
    ElementCounterSums first = read("", false);
    EXPECT_EQ(first.sums().size(), 2U);
    EXPECT_FALSE(first.unchanged());
    ElementCounterSums second = read("", false);
    const auto same = second.sums(&first);
    EXPECT_TRUE(second.unchanged());
    ASSERT_EQ(same.size(), 2U);
    EXPECT_EQ(same[0].name, "svc_c1");
    EXPECT_EQ(same[1].name, "svc_c2");
    EXPECT_EQ(same[1].packets, 4U);
    EXPECT_EQ(same[1].bytes, 40U);
    ElementCounterSums third = read(" @b.acct:2", false);
    const auto changed = third.sums(&second);
    EXPECT_FALSE(third.unchanged());
    ASSERT_EQ(changed.size(), 2U);
    EXPECT_EQ(changed[0].comment, "acctc1 f=3 class=c1 @b.acct:2");
    ElementCounterSums fourth = read(" @b.acct:2", true);
    const auto more = fourth.sums(&third);
    EXPECT_FALSE(fourth.unchanged());
    ASSERT_EQ(more.size(), 3U);
    EXPECT_EQ(more[0].name, "svc_c0");
    EXPECT_EQ(more[2].packets, 4U);
}

} // namespace
} // namespace acctc::runtime
