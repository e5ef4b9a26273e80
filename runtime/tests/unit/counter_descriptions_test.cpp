#include "counter_descriptions.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

constexpr std::string_view in = "acctc1 f=3 direction=in class=c1 @p.acct:4";
constexpr std::string_view out = "acctc1 f=3 direction=out class=c2 @p.acct:5";

// A second read of the same counters shares the first one's descriptions; a changed comment is
// decoded again, whatever the order the counters are asked for in.
TEST(CounterDescriptions, SameCommentSharedChangedCommentDecodedAgain) {
    const std::string table = "acctc_descriptions_test";
    auto first = CounterDescriptions::take(table);
    const auto a = first.get("svc_in", in);
    const auto b = first.get("svc_out", out);
    EXPECT_EQ(a->family, "svc");
    EXPECT_EQ(a->labels,
              (std::vector<Label>{{Dimension::direction, "in"}, {Dimension::class_, "c1"}}));
    EXPECT_EQ(a->origin, "p.acct:4");
    CounterDescriptions::keep(table, std::move(first));

    auto second = CounterDescriptions::take(table);
    EXPECT_EQ(second.size(), 2U);
    EXPECT_EQ(second.get("svc_out", out), b); // out of name order: found all the same
    const auto moved = second.get("svc_in", "acctc1 f=3 direction=in class=c1 @p.acct:9");
    EXPECT_NE(moved, a);
    EXPECT_EQ(moved->origin, "p.acct:9");
    CounterDescriptions::keep(table, std::move(second));

    // What the last read asked for is what is kept: the old svc_in is gone.
    auto third = CounterDescriptions::take(table);
    EXPECT_EQ(third.size(), 2U);
    EXPECT_EQ(third.get("svc_in", "acctc1 f=3 direction=in class=c1 @p.acct:9"), moved);
    EXPECT_NE(third.get("svc_in", in), a);
}

// A comment the caller knows unchanged is not compared where one kept entry has the name; two
// entries of one name (an object and its carried elements) are told apart by their comments.
TEST(CounterDescriptions, UnchangedCommentsAreComparedOnlyWhereANameIsKeptTwice) {
    const std::string table = "acctc_descriptions_unchanged_test";
    auto first = CounterDescriptions::take(table);
    const auto object = first.get("svc_a", in);
    const auto element = first.get("svc_a", out);
    const auto single = first.get("svc_b", in);
    EXPECT_NE(object, element);
    CounterDescriptions::keep(table, std::move(first));

    auto second = CounterDescriptions::take(table);
    const auto asked = second.get("svc_a", out, true); // the object's entry comes first
    EXPECT_NE(asked, object);
    EXPECT_EQ(asked->labels, element->labels);
    EXPECT_EQ(second.get("svc_b", in, true), single);
}

} // namespace
} // namespace acctc::runtime
