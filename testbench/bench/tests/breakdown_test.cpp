// The bench's breakdown rulesets: acctc's compiled text with one piece taken away at a time.
#include "acctc/bench/breakdown.hpp"

#include <gtest/gtest.h>

namespace acctc::bench {
namespace {

const std::string compiled = R"(table inet acctc_b
delete table inet acctc_b
table inet acctc_b {
	counter svc_c0 {
		comment "acctc1 f=3 class=c0 @b.acct:4"
	}
	counter svc_rest {
		comment "acctc1 f=3 class=rest @b.acct:6"
	}

	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		iifname "wan0" jump classify_svc comment "b.acct:3"
	}

	chain classify_svc {
		counter name meta l4proto . th dport map { tcp . 1000 : "svc_c0", udp . 1000 : "svc_c1" } return comment "b.acct:3"
		counter name "svc_rest" comment "b.acct:6"
	}
}
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
}

TEST(Breakdown, EachStepTakesOnePieceAway) {
    const auto steps = breakdown_rulesets(compiled);
    ASSERT_TRUE(steps);
    EXPECT_EQ(steps->compare, replaced(compiled, " jump classify_svc", ""));
    EXPECT_EQ(
        steps->jump,
        replaced(compiled,
                 "\t\tcounter name meta l4proto . th dport map { tcp . 1000 : \"svc_c0\", udp "
                 ". 1000 : \"svc_c1\" } return comment \"b.acct:3\"\n\t\tcounter name "
                 "\"svc_rest\" comment \"b.acct:6\"\n",
                 ""));
    EXPECT_EQ(steps->lookup, replaced(compiled,
                                      "counter name meta l4proto . th dport map { tcp . 1000 : "
                                      "\"svc_c0\", udp . 1000 : \"svc_c1\" }",
                                      "meta l4proto . th dport { tcp . 1000, udp . 1000 }"));
}

TEST(Breakdown, NoClassificationMapNoBreakdown) {
    EXPECT_FALSE(breakdown_rulesets("table inet acctc_h {\n\tchain forward {\n\t\ttype filter "
                                    "hook forward priority filter - 10; policy accept;\n\t\t"
                                    "iifname \"wan0\" update @h_hosts_v4 { ip saddr }\n\t}\n}\n"));
}

} // namespace
} // namespace acctc::bench
