// The produced-name table: every name once, a repeat answered with where it came first, across
// the table's growth.
#include "name_table.hpp"

#include <gtest/gtest.h>
#include <string>

namespace acctc {
namespace {

TEST(NameTable, RepeatsAnswerTheFirstRangeAcrossGrowth) {
    NameTable table; // no reserve: it grows from 16 slots
    constexpr std::size_t names = 5000;
    for (std::size_t i = 0; i < names; ++i) {
        EXPECT_EQ(table.insert("svc_c" + std::to_string(i), {i, i + 1}), nullptr) << i;
    }
    for (std::size_t i = 0; i < names; ++i) {
        const SourceRange* first = table.insert("svc_c" + std::to_string(i), {0, 0});
        ASSERT_NE(first, nullptr) << i;
        EXPECT_EQ(first->begin, i);
        EXPECT_EQ(first->end, i + 1);
    }
    // Longer than a string holds inline, and reserved ahead.
    NameTable reserved;
    reserved.reserve(3);
    const std::string long_name(40, 'x');
    EXPECT_EQ(reserved.insert(long_name, {7, 8}), nullptr);
    EXPECT_EQ(reserved.insert(long_name + "y", {9, 10}), nullptr);
    ASSERT_NE(reserved.insert(long_name, {1, 2}), nullptr);
    EXPECT_EQ(reserved.insert(long_name, {1, 2})->begin, 7U);
}

} // namespace
} // namespace acctc
