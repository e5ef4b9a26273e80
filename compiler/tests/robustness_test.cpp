// Any input gets positioned errors or compiles: never a crash, a hang or partial output.
#include "acctc/compile.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
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

// `address ALIAS` of n addresses that do not merge, listed in a shuffled order.
std::string address_alias_policy(std::size_t count) {
    std::vector<std::uint32_t> addresses;
    for (std::size_t i = 0; i < count; ++i) {
        addresses.push_back(0x0a000000U + 2 * static_cast<std::uint32_t>(i));
    }
    std::shuffle(addresses.begin(), addresses.end(), std::mt19937(7));
    std::string text = "policy big\nnetwork many = ";
    for (std::size_t i = 0; i < count; ++i) {
        const auto a = addresses[i];
        text += (i ? ", " : "") + std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) +
                "." + std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
    }
    return text + "\ncounter c { address many }\n";
}

// The compile's CPU time (not wall time: other processes on the machine do not count).
CompileResult compile_cpu_timed(const std::string& text, double max_seconds, Target target) {
    const std::clock_t start = std::clock();
    CompileOptions options;
    options.target = target;
    CompileResult result = compile_source("input.acct", text, options);
    const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
    EXPECT_LT(seconds, max_seconds) << "compile took " << seconds << " s of CPU";
    return result;
}

// Once quadratic: nft took 15 s of CPU for 100,000 addresses (each added by rebuilding the
// set), iptables 57 s and 5 GB for 4,000 (the sources' exclusions copied into every
// destination's alternative). Now well under a second each; the bounds leave room for slow
// and sanitizer builds.
TEST(Robustness, LargeAddressListsCompileInLinearTime) {
    const auto nft = compile_cpu_timed(address_alias_policy(100000), 5, Target::nft);
    ASSERT_TRUE(nft.output.has_value()) << rendered(nft);
    EXPECT_NE(nft.output->text.find("10.3.13.62"), std::string::npos); // the last address
    const auto ipt = compile_cpu_timed(address_alias_policy(20000), 5, Target::iptables);
    ASSERT_TRUE(ipt.output.has_value()) << rendered(ipt);
    // Per hook: from each; a jump to the sub-chain where each source returns and each
    // destination counts. Plus the counter chain's own rule.
    const std::string& v4 = ipt.output->iptables->v4;
    std::size_t rules = 0;
    for (auto at = v4.find("\n-A "); at != std::string::npos; at = v4.find("\n-A ", at + 1)) {
        ++rules;
    }
    EXPECT_EQ(rules, 3 * (3 * 20000 + 1) + 1);
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

// One classify of many bad classes: its class loop stops at the cap too, and what is printed is
// the first errors, not every one a later pass found.
TEST(Robustness, ManyBadClassesAreCapped) {
    std::string text = "policy p\nclassify svc in {\n";
    for (int i = 0; i < 20000; ++i) {
        text += "    c" + std::to_string(i) + ": udp dport 70000\n";
    }
    text += "}\n";
    const auto result = compile_timed(text, 5);
    EXPECT_LE(result.diagnostics.error_count(), Diagnostics::max_errors + 1);
    const std::string out = rendered(result);
    std::size_t printed = 0;
    for (auto at = out.find(": error: "); at != std::string::npos;
         at = out.find(": error: ", at + 1)) {
        ++printed;
    }
    EXPECT_EQ(printed, Diagnostics::max_errors);
    EXPECT_NE(out.find("too many errors"), std::string::npos);
}

TEST(Robustness, NulBytesAndCarriageReturns) {
    expect_positioned_error(compile_timed(std::string("policy p\ncounter c { in \0 }\n", 27), 1));
    const auto crlf = compile_timed("policy p\r\ncounter c { in }\r\n", 1);
    EXPECT_TRUE(crlf.output.has_value()) << rendered(crlf);
}

} // namespace
} // namespace acctc
