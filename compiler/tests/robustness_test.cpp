// Any input gets positioned errors or compiles: never a crash, a hang or partial output.
#include "acctc/compile.hpp"

#include <algorithm>
#include <chrono>
#include <gtest/gtest.h>
#include <random>
#include <sstream>

namespace acctc {
namespace {

using Clock = std::chrono::steady_clock;

CompileResult compile_timed(const std::string& text, double max_seconds) {
    const auto start = Clock::now();
    CompileResult result = compile_source("input.acct", text);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_LT(seconds, max_seconds) << "compile took " << seconds << " s";
    return result;
}

std::string rendered(const CompileResult& result) {
    std::ostringstream out;
    render_all(out, result.source, result.diagnostics);
    return out.str();
}

void expect_positioned_error(const CompileResult& result) {
    EXPECT_FALSE(result.output.has_value());
    ASSERT_TRUE(result.diagnostics.has_errors());
    EXPECT_NE(rendered(result).find("input.acct:"), std::string::npos);
}

TEST(Robustness, EmptyFile) {
    expect_positioned_error(compile_timed("", 1));
}

TEST(Robustness, BinaryGarbage) {
    std::mt19937 random(42);
    for (int round = 0; round < 200; ++round) {
        std::string text(1 + random() % 2000, '\0');
        for (char& c : text) {
            c = static_cast<char>(random());
        }
        const auto result = compile_timed(text, 1);
        EXPECT_FALSE(result.output.has_value());
        (void)rendered(result); // rendering must cope with any bytes
    }
}

TEST(Robustness, InvalidUtf8InNames) {
    expect_positioned_error(compile_timed("policy p\ncounter \xff\xfe { in }\n", 1));
    expect_positioned_error(compile_timed("policy \xc3\x28\n", 1));
}

TEST(Robustness, DeepNesting) {
    std::string text = "policy p\ncounter c ";
    text += std::string(10000, '{');
    text += std::string(10000, '}');
    expect_positioned_error(compile_timed(text, 2));
    expect_positioned_error(compile_timed("policy p\n" + std::string(10000, '{'), 2));
}

TEST(Robustness, VeryLongName) {
    const std::string name(10000, 'a');
    const auto result = compile_timed("policy p\ncounter " + name + " { in }\n", 1);
    expect_positioned_error(result);
    EXPECT_NE(rendered(result).find("10000 characters"), std::string::npos);
    // The rendered source line is cut to a window, not 10,000 columns of carets.
    EXPECT_LT(rendered(result).size(), 2000U);
}

TEST(Robustness, HundredMegabytes) {
    // 100 MB of valid counters compiles or errors within bounds; here a long comment-only file
    // plus one broken statement at the very end.
    std::string text = "policy big\n";
    const std::string line = "# " + std::string(98, 'x') + "\n";
    text.reserve(100 * 1024 * 1024 + 100);
    while (text.size() < 100 * 1024 * 1024) {
        text += line;
    }
    const auto broken_line = std::count(text.begin(), text.end(), '\n') + 1;
    text += "counter broken { tcp dport }\n";
    const auto result = compile_timed(text, 20);
    expect_positioned_error(result);
    const std::string where = "input.acct:" + std::to_string(broken_line) + ":28";
    EXPECT_NE(rendered(result).find(where), std::string::npos) << rendered(result);
}

TEST(Robustness, ManyErrorsAreCapped) {
    std::string text = "policy p\n";
    for (int i = 0; i < 5000; ++i) {
        text += "counter c" + std::to_string(i) + " { bogus }\n";
    }
    const auto result = compile_timed(text, 5);
    EXPECT_EQ(result.diagnostics.error_count(), Diagnostics::max_errors);
    EXPECT_NE(rendered(result).find("too many errors"), std::string::npos);
}

TEST(Robustness, NulBytesAndCarriageReturns) {
    expect_positioned_error(compile_timed(std::string("policy p\ncounter c { in \0 }\n", 27), 1));
    const auto crlf = compile_timed("policy p\r\ncounter c { in }\r\n", 1);
    EXPECT_TRUE(crlf.output.has_value()) << rendered(crlf);
}

} // namespace
} // namespace acctc
