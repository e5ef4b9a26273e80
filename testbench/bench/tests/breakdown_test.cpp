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

// split host in two parts (the bench's are 16 of 8,192), as acctc compiles it.
const std::string hosts = R"(table inet acctc_h
delete table inet acctc_h
table inet acctc_h {
	counter hosts_overflow {
		comment "acctc1 f=5 host=overflow w=gro rx=wan0 @h.acct:3"
	}

	set hosts_hosts_v4_p0 {
		type ipv4_addr
		size 8192
		flags dynamic
		counter
		comment "acctc1 f=5 w=gro rx=wan0 @h.acct:3"
	}

	set hosts_hosts_v4_p1 {
		type ipv4_addr
		size 8192
		flags dynamic
		counter
		comment "acctc1 f=5 w=gro rx=wan0 @h.acct:3"
	}

	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		iifname "wan0" jump hosts_hosts_src comment "h.acct:3"
	}

	chain hosts_hosts_src {
		meta nfproto ipv4 jhash ip saddr mod 2 seed 0x0 vmap { 0 : goto hosts_hosts_src_v4_p0, 1 : goto hosts_hosts_src_v4_p1 } comment "h.acct:3"
	}

	chain hosts_hosts_src_v4_p0 {
		update @hosts_hosts_v4_p0 { ip saddr } return comment "h.acct:3"
		counter name "hosts_overflow" comment "h.acct:3"
	}

	chain hosts_hosts_src_v4_p1 {
		update @hosts_hosts_v4_p1 { ip saddr } return comment "h.acct:3"
		counter name "hosts_overflow" comment "h.acct:3"
	}
}
)";

std::string without_all(std::string text, const std::string& piece) {
    for (std::size_t at = text.find(piece); at != std::string::npos; at = text.find(piece, at)) {
        text.erase(at, piece.size());
    }
    return text;
}

// `text` without the rules of parts 0 and 1: each `before` PART `after` removed.
std::string without_parts(std::string text, const std::string& before, const std::string& after) {
    for (const char* part : {"0", "1"}) {
        text = replaced(text, before + part + after, "");
    }
    return text;
}

TEST(Breakdown, HostStepsEmptyTheHostChainThenThePartsThenDropTheElementCounters) {
    const auto steps = breakdown_rulesets(hosts);
    ASSERT_TRUE(steps);
    EXPECT_EQ(steps->compare, replaced(hosts, " jump hosts_hosts_src", ""));
    EXPECT_EQ(steps->jump,
              replaced(hosts,
                       "\t\tmeta nfproto ipv4 jhash ip saddr mod 2 seed 0x0 vmap { 0 : goto "
                       "hosts_hosts_src_v4_p0, 1 : goto hosts_hosts_src_v4_p1 } comment "
                       "\"h.acct:3\"\n",
                       ""));
    EXPECT_EQ(steps->dispatch,
              without_parts(hosts, "\t\tupdate @hosts_hosts_v4_p",
                            " { ip saddr } return comment \"h.acct:3\"\n\t\tcounter name "
                            "\"hosts_overflow\" comment \"h.acct:3\"\n"));
    EXPECT_EQ(steps->lookup, without_all(hosts, "\t\tcounter\n"));
}

TEST(Breakdown, HostsWithoutPartsHaveNoDispatchStep) {
    const std::string whole = R"(table inet acctc_h {
	set hosts_hosts_v4 {
		type ipv4_addr
		size 8192
		flags dynamic
		counter
	}

	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		iifname "wan0" jump hosts_hosts_src
	}

	chain hosts_hosts_src {
		meta nfproto ipv4 update @hosts_hosts_v4 { ip saddr } return
		counter name "hosts_overflow"
	}
}
)";
    const auto steps = breakdown_rulesets(whole);
    ASSERT_TRUE(steps);
    EXPECT_TRUE(steps->dispatch.empty());
    EXPECT_EQ(steps->lookup, without_all(whole, "\t\tcounter\n"));
}

// Element counters as acctc compiles them: the first counting set and the base chain, then
// either a second set and the parts (the bench's 10,000 ports were 32), or one set.
const std::string elements_head = R"(table inet acctc_e {
	set classify_svc_e0 {
		type inet_service
		counter
		elements = { 1000 comment "svc_c0 acctc1 f=3 class=c0" }
	}
)";
const std::string elements_forward = R"(
	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		iifname "wan0" jump classify_svc comment "e.acct:3"
	}
)";
const std::string elements = elements_head + R"(
	set classify_svc_e1 {
		type inet_service
		counter
		elements = { 1001 comment "svc_c1 acctc1 f=3 class=c1" }
	}
)" + elements_forward + R"(
	chain classify_svc {
		jhash udp dport mod 2 seed 0x0 vmap { 0 : goto classify_svc_p0, 1 : goto classify_svc_p1 } comment "e.acct:3"
		goto classify_svc_miss comment "e.acct:3"
	}

	chain classify_svc_miss {
		counter name "svc_rest" comment "e.acct:5"
	}

	chain classify_svc_p0 {
		th dport @classify_svc_e0 return comment "e.acct:3"
		goto classify_svc_miss comment "e.acct:3"
	}

	chain classify_svc_p1 {
		th dport @classify_svc_e1 return comment "e.acct:3"
		goto classify_svc_miss comment "e.acct:3"
	}
}
)";

TEST(Breakdown, ElementCounterStepsEmptyTheClassifyChainThenThePartsThenDropTheCounters) {
    const auto steps = breakdown_rulesets(elements);
    ASSERT_TRUE(steps);
    EXPECT_EQ(steps->compare, replaced(elements, " jump classify_svc", ""));
    EXPECT_EQ(steps->jump, replaced(elements,
                                    "\t\tjhash udp dport mod 2 seed 0x0 vmap { 0 : goto "
                                    "classify_svc_p0, 1 : goto classify_svc_p1 } comment "
                                    "\"e.acct:3\"\n\t\tgoto classify_svc_miss comment "
                                    "\"e.acct:3\"\n",
                                    ""));
    // The parts' chains and the miss chain emptied: what the hash and the verdict map cost.
    EXPECT_EQ(
        steps->dispatch,
        without_parts(
            replaced(elements, "\t\tcounter name \"svc_rest\" comment \"e.acct:5\"\n", ""),
            "\t\tth dport @classify_svc_e",
            " return comment \"e.acct:3\"\n\t\tgoto classify_svc_miss comment \"e.acct:3\"\n"));
    EXPECT_EQ(steps->lookup, without_all(elements, "\t\tcounter\n"));
}

TEST(Breakdown, OneCountingSetHasNoDispatchStep) {
    const std::string one = elements_head + elements_forward + R"(
	chain classify_svc {
		udp dport @classify_svc_e0 return
		counter name "svc_rest"
	}
}
)";
    const auto steps = breakdown_rulesets(one);
    ASSERT_TRUE(steps);
    EXPECT_TRUE(steps->dispatch.empty());
    EXPECT_EQ(steps->jump, replaced(one,
                                    "\t\tudp dport @classify_svc_e0 return\n\t\tcounter name "
                                    "\"svc_rest\"\n",
                                    ""));
    EXPECT_EQ(steps->lookup, without_all(one, "\t\tcounter\n"));
}

TEST(Breakdown, NoClassificationMapNoBreakdown) {
    EXPECT_FALSE(breakdown_rulesets("table inet acctc_h {\n\tchain forward {\n\t\ttype filter "
                                    "hook forward priority filter - 10; policy accept;\n\t\t"
                                    "iifname \"wan0\" update @h_hosts_v4 { ip saddr }\n\t}\n}\n"));
}

} // namespace
} // namespace acctc::bench
