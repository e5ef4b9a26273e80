#include "acctc/runtime/unified_diff.hpp"
#include "nft_counter_dump.hpp"
#include "ruleset_normalise.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

TEST(RulesetNormalise, DropsCounterCommentsValuesAndDynamicElements) {
    const std::string listing = "table inet acctc_t {\n"
                                "\tcounter c {\n"
                                "\t\tcomment \"p.acct:3\"\n"
                                "\t\tpackets 4 bytes 400\n"
                                "\t}\n"
                                "\n"
                                "\tset peers {\n"
                                "\t\ttype ipv4_addr\n"
                                "\t\tflags dynamic,timeout\n"
                                "\t\telements = { 198.18.0.1 expires 10s,\n"
                                "\t\t\t     198.18.0.2 expires 9s }\n"
                                "\t}\n"
                                "\n"
                                "\tset nets {   \n"
                                "\t\ttype ipv4_addr\n"
                                "\t\telements = { 198.18.1.1 }\n"
                                "\t}\n"
                                "\tchain output {\n"
                                "\t\tudp dport 9 counter name \"c\" comment \"p.acct:5\"\n"
                                "\t}\n"
                                "}\n";
    // Members in canonical order (kind, then name), one blank line between each two.
    EXPECT_EQ(normalise_ruleset(listing, {"peers"}), "table inet acctc_t {\n"
                                                     "\tchain output {\n"
                                                     "\t\tudp dport 9 counter name \"c\" comment "
                                                     "\"p.acct:5\"\n"
                                                     "\t}\n"
                                                     "\n"
                                                     "\tcounter c {\n"
                                                     "\t}\n"
                                                     "\n"
                                                     "\tset nets {\n"
                                                     "\t\ttype ipv4_addr\n"
                                                     "\t\telements = { 198.18.1.1 }\n"
                                                     "\t}\n"
                                                     "\n"
                                                     "\tset peers {\n"
                                                     "\t\ttype ipv4_addr\n"
                                                     "\t\tflags dynamic,timeout\n"
                                                     "\t}\n"
                                                     "}\n");
}

// A per-host set: nft 1.0.6's JSON lists it without its dynamic flag, so the names given miss it;
// its elements (the hosts traffic added) are state all the same, or `diff --live` right after
// apply differed once a host had sent a packet.
TEST(RulesetNormalise, DropsTheElementsOfASetListedAsDynamic) {
    const std::string listing = "table inet acctc_t {\n"
                                "\tset h_hosts_v4 {\n"
                                "\t\ttype ipv4_addr\n"
                                "\t\tsize 8192\n"
                                "\t\tflags dynamic\n"
                                "\t\tcounter\n"
                                "\t\tcomment \"acctc1 f=1 @p.acct:3\"\n"
                                "\t\telements = { 198.18.1.20 counter,\n"
                                "\t\t\t     198.18.1.21 counter }\n"
                                "\t}\n"
                                "\tset p_v4 {\n"
                                "\t\ttype ipv4_addr\n"
                                "\t\ttimeout 1h\n"
                                "\t\telements = { 198.18.0.1 expires 10s }\n"
                                "\t}\n"
                                "}\n";
    EXPECT_EQ(normalise_ruleset(listing, {}), "table inet acctc_t {\n"
                                              "\tset h_hosts_v4 {\n"
                                              "\t\ttype ipv4_addr\n"
                                              "\t\tsize 8192\n"
                                              "\t\tflags dynamic\n"
                                              "\t\tcounter\n"
                                              "\t}\n"
                                              "\n"
                                              "\tset p_v4 {\n"
                                              "\t\ttype ipv4_addr\n"
                                              "\t\ttimeout 1h\n"
                                              "\t}\n"
                                              "}\n");
}

// The kernel lists members in creation order: a counter a reload added comes last.
TEST(RulesetNormalise, OrderOfMembersDoesNotMatter) {
    const std::string created = "table inet acctc_t {\n"
                                "\tcounter b {\n\t}\n\n"
                                "\tchain output {\n\t\tcounter name \"b\"\n\t}\n"
                                "\tcounter a {\n\t}\n"
                                "}\n";
    const std::string declared = "table inet acctc_t {\n"
                                 "\tcounter a {\n\t}\n"
                                 "\tcounter b {\n\t}\n\n"
                                 "\tchain output {\n\t\tcounter name \"b\"\n\t}\n"
                                 "}\n";
    EXPECT_EQ(normalise_ruleset(created, {}), normalise_ruleset(declared, {}));
}

TEST(RulesetNormalise, OriginsAreNotPartOfALine) {
    EXPECT_EQ(without_origin("\t\tudp dport 9 counter name \"c\" comment \"./p.acct:5\""),
              "\t\tudp dport 9 counter name \"c\"");
    EXPECT_EQ(without_origin("\t\tcomment \"x\" jump a comment \"a \\\"b\\\" c\""),
              "\t\tcomment \"x\" jump a");
    EXPECT_EQ(without_origin("-A acctc-t-in -p udp -m comment --comment \"t.acct:5\" -j RETURN"),
              "-A acctc-t-in -p udp -j RETURN");
    EXPECT_EQ(without_origin("-A acctc-t-in -m comment --comment t.acct:5 -j RETURN"),
              "-A acctc-t-in -j RETURN");
    EXPECT_EQ(without_origin("\tchain output {"), "\tchain output {");
}

TEST(CounterUserdata, FindsTheCommentRecord) {
    // type 1 (unknown, skipped), then type 0: the comment with its terminating NUL.
    const unsigned char data[] = {1, 2, 'x', 'y', 0, 9, 'p', '.', 'a', 'c', 'c', 't', ':', '3', 0};
    EXPECT_EQ(comment_from_userdata(data, sizeof data), "p.acct:3");
    EXPECT_EQ(comment_from_userdata(data, 4), "");
    const unsigned char truncated[] = {0, 9, 'p'};
    EXPECT_EQ(comment_from_userdata(truncated, sizeof truncated), "");
}

} // namespace
} // namespace acctc::runtime
