// The bench's text tables: columns never run together, whatever the values' widths.
#include "acctc/bench/text_table.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace acctc::bench {
namespace {

std::string printed(const TextTable& table) {
    std::ostringstream out;
    table.print(out);
    return out.str();
}

TEST(TextTable, ValuesWiderThanTheirHeaderDoNotRunTogether) {
    // The old fixed widths printed these two cells as "6.0k0.029/0.031".
    TextTable table({{"pps"}, {"ratio"}});
    table.add_row({"6.0k", "0.029/0.031"});
    table.add_row({"1234567.8k", "1.00/1.00"});
    EXPECT_EQ(printed(table), "       pps |       ratio\n"
                              "---------- | -----------\n"
                              "      6.0k | 0.029/0.031\n"
                              "1234567.8k |   1.00/1.00\n");
}

TEST(TextTable, LeftAlignedColumnsAndMissingCells) {
    TextTable table({{"kind", Align::left}, {"classes"}, {"check", Align::left}});
    table.add_row({"protoport", "100000", "16/16 classes hit"});
    table.add_row({"ports", "10"});
    EXPECT_EQ(printed(table), "kind      | classes | check\n"
                              "--------- | ------- | -----------------\n"
                              "protoport |  100000 | 16/16 classes hit\n"
                              "ports     |      10 |\n");
}

TEST(TextTable, EveryLineHasTheSeparatorBetweenEachPairOfColumns) {
    TextTable table({{"a"}, {"b"}, {"c"}});
    table.add_row({"x", "", "zzzzzzzzzzzz"});
    std::istringstream lines(printed(table));
    for (std::string line; std::getline(lines, line);) {
        std::size_t separators = 0;
        for (std::size_t at = line.find(" | "); at != std::string::npos;
             at = line.find(" | ", at + 1)) {
            ++separators;
        }
        EXPECT_EQ(separators, 2U) << line;
    }
}

TEST(TextTable, MoreCellsThanColumnsIsAnError) {
    TextTable table({{"a"}});
    EXPECT_THROW(table.add_row({"1", "2"}), std::logic_error);
}

} // namespace
} // namespace acctc::bench
