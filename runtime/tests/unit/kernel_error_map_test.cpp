#include "kernel_error_map.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

const std::string transaction = R"(table inet acctc_t
flush table inet acctc_t
table inet acctc_t {
	counter c { comment "p.acct:3" }
	chain output {
		type filter hook output priority filter; policy accept;
		udp dport 9 counter name "c" comment "p.acct:5"
	}
}
)";

TEST(KernelErrorMap, RuleErrorsLeadToTheirComment) {
    const std::string errors = "<cmdline>:7:23-25: Error: Could not process rule: No such file "
                               "or directory\n\t\tudp dport 9 counter name \"c\" comment "
                               "\"p.acct:5\"\n\t\t                      ^^^\n";
    const auto diagnostics = map_kernel_errors(errors, transaction);
    ASSERT_EQ(diagnostics.size(), 1U);
    EXPECT_EQ(diagnostics[0].origin, "p.acct:5");
    EXPECT_EQ(diagnostics[0].message, "Could not process rule: No such file or directory");
    EXPECT_EQ(diagnostics[0].statement, "udp dport 9 counter name \"c\"");
    EXPECT_EQ(render_kernel_diagnostics(diagnostics, "table inet acctc_t"),
              "p.acct:5: error: Could not process rule: No such file or directory\n"
              "    udp dport 9 counter name \"c\"\n");
}

TEST(KernelErrorMap, HookLinesUseTheirChainsFirstRule) {
    const auto diagnostics = map_kernel_errors(
        "<cmdline>:6:3-40: Error: Could not process rule: Operation not supported\n", transaction);
    ASSERT_EQ(diagnostics.size(), 1U);
    EXPECT_EQ(diagnostics[0].origin, "p.acct:5");
    EXPECT_TRUE(is_missing_kernel_support(diagnostics[0].message));
    EXPECT_NE(render_kernel_diagnostics(diagnostics, "x").find("lacks the nf_tables feature"),
              std::string::npos);
}

TEST(KernelErrorMap, LinesWithoutOriginFallBack) {
    const auto diagnostics = map_kernel_errors(
        "<cmdline>:2:1-5: Error: Could not process rule: Device or resource busy\n"
        "Error: something without a location\n",
        transaction);
    ASSERT_EQ(diagnostics.size(), 2U);
    EXPECT_EQ(diagnostics[0].origin, "");
    EXPECT_EQ(render_kernel_diagnostics({diagnostics[1]}, "table inet acctc_t"),
              "table inet acctc_t: error: something without a location\n");
}

} // namespace
} // namespace acctc::runtime
