// The pieces of reading `split host` ipsets that need no kernel: the rule comment naming a host
// set, `ipset save` output, and finding a policy's host sets in iptables-save rules.
#include "acctc/ipset_host_comment.hpp"
#include "ipset_host_counters.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

TEST(IpsetHostComment, RoundTripsSetCounterAndLabels) {
    const CounterIdentity identity{
        "lan", CounterKind::counter, {{Dimension::direction, "in"}}, "p.acct:3"};
    const auto text = encode_ipset_host_comment("acctc-p-h-lan_in-4-32-8", "lan_in", identity);
    EXPECT_EQ(text, "acctc-hosts:acctc-p-h-lan_in-4-32-8 lan_in acctc1 f=3 direction=in @p.acct:3");
    const auto decoded = decode_ipset_host_comment(text);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->ipset, "acctc-p-h-lan_in-4-32-8");
    EXPECT_EQ(decoded->counter, "lan_in");
    EXPECT_EQ(decoded->identity, identity);
    EXPECT_FALSE(decode_ipset_host_comment("acctc:lan_in_overflow acctc1 f=3"));
    EXPECT_FALSE(decode_ipset_host_comment("p.acct:3"));
    EXPECT_FALSE(decode_ipset_host_comment("acctc-hosts:onlyaset"));
}

TEST(IpsetSave, ElementsWithCountersInTheNftBackendsSpelling) {
    const auto save = parse_ipset_save(
        "create s hash:ip family inet6 hashsize 1024 maxelem 8 netmask 64 counters\n"
        "add s 2001:0db8:0000:0001:0000:0000:0000:0000 packets 3 bytes 150\n"
        "create m hash:mac hashsize 1024 maxelem 8 counters\n"
        "add m 02:AC:00:00:00:01 packets 2 bytes 200\n");
    ASSERT_EQ(save.elements.size(), 2U);
    EXPECT_EQ(save.elements[0].set, "s");
    EXPECT_EQ(save.elements[0].address, "2001:db8:0:1::");
    EXPECT_EQ(save.elements[0].packets, 3U);
    EXPECT_EQ(save.elements[0].bytes, 150U);
    EXPECT_EQ(save.elements[1].address, "02:ac:00:00:00:01");
    EXPECT_EQ(save.creates.at("s"),
              " hash:ip family inet6 hashsize 1024 maxelem 8 netmask 64 counters");
}

TEST(IpsetHostSets, FoundByTheCommentOfTheirCountingRuleOncePerSet) {
    const std::string comment = "acctc-hosts:acctc-p-h-x acctc-p-x x acctc1 f=1 @p.acct:2";
    const std::vector<SavedRule> rules{
        {0, 0, "acctc-p-input",
         " -m set --match-set acctc-p-h-x src -m comment --comment \"" +
             std::string("acctc-hosts:acctc-p-h-x x acctc1 f=1 @p.acct:2") + "\""},
        {0, 0, "acctc-p-forward",
         " -m set --match-set acctc-p-h-x src -m comment --comment \"" +
             std::string("acctc-hosts:acctc-p-h-x x acctc1 f=1 @p.acct:2") + "\""},
        {0, 0, "foreign", " -m comment --comment \"" + comment + "\""}};
    const auto sets = ipset_host_sets(rules, {{"p", "acctc-p-"}});
    ASSERT_EQ(sets.size(), 1U);
    EXPECT_EQ(sets[0].policy, "p");
    EXPECT_EQ(sets[0].ipset, "acctc-p-h-x");
    EXPECT_EQ(sets[0].counter, "x");
    EXPECT_EQ(sets[0].identity.family, "x");
    EXPECT_EQ(sets[0].identity.origin, "p.acct:2");
}

} // namespace
} // namespace acctc::runtime
