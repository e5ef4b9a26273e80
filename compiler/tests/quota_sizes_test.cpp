// Quota sizes are read exactly: every unit, fractions that make whole bytes, the kernel's
// largest budget and one byte more.
#include "check_quotas.hpp"

#include <gtest/gtest.h>

namespace acctc {
namespace {

std::optional<std::uint64_t> size(const std::string& number, const std::string& unit) {
    Diagnostics diagnostics;
    ast::Size value{number, {unit, {}}, {}};
    auto bytes = read_size(value, diagnostics);
    EXPECT_EQ(bytes.has_value(), !diagnostics.has_errors());
    return bytes;
}

TEST(QuotaSizes, EveryUnitExactly) {
    EXPECT_EQ(size("7", "B"), 7U);
    EXPECT_EQ(size("1", "kB"), 1000U);
    EXPECT_EQ(size("1", "MB"), 1000000U);
    EXPECT_EQ(size("50", "GB"), 50000000000U);
    EXPECT_EQ(size("2", "TB"), 2000000000000U);
    EXPECT_EQ(size("1", "KiB"), 1024U);
    EXPECT_EQ(size("1", "MiB"), 1048576U);
    EXPECT_EQ(size("1", "GiB"), 1073741824U);
    EXPECT_EQ(size("1", "TiB"), 1099511627776U);
}

TEST(QuotaSizes, FractionsMustMakeWholeBytes) {
    EXPECT_EQ(size("1.5", "GiB"), 1610612736U);
    EXPECT_EQ(size("0.001", "kB"), 1U);
    EXPECT_EQ(size("2.25", "KiB"), 2304U);
    EXPECT_FALSE(size("0.5", "B"));
    EXPECT_FALSE(size("1.0001", "kB"));
    EXPECT_FALSE(size("0.1", "KiB")); // 102.4 bytes
}

TEST(QuotaSizes, TheKernelsLimitAndBeyond) {
    EXPECT_EQ(size("9223372036854775807", "B"), 9223372036854775807U);
    EXPECT_FALSE(size("9223372036854775808", "B"));
    EXPECT_FALSE(size("8388608", "TiB")); // 2^63
    EXPECT_EQ(size("8388607.999999", "TiB"), std::nullopt); // not whole bytes
    EXPECT_FALSE(size("99999999999999999999999999", "B"));
}

TEST(QuotaSizes, UnitsAreCaseSensitiveAndRequired) {
    EXPECT_FALSE(size("1", "gb"));
    EXPECT_FALSE(size("1", "Gb"));
    EXPECT_FALSE(size("1", "KB"));
    EXPECT_FALSE(size("1", ""));
}

} // namespace
} // namespace acctc
