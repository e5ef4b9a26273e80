// Chain and set names of the iptables backend: within iptables' limits, owned by one prefix,
// readable when they fit, stable for the same input.
#include "iptables_names.hpp"

#include <gtest/gtest.h>

namespace acctc::iptables {
namespace {

TEST(IptablesNames, ShortNamesStayReadable) {
    EXPECT_EQ(owned_prefix("brewery"), "acctc-brewery-");
    EXPECT_EQ(counter_chain("brewery", "ftp"), "acctc-brewery-c-ftp");
    EXPECT_EQ(object_name("brewery", "input"), "acctc-brewery-input");
}

TEST(IptablesNames, LongNamesAreShortenedWithAHashWithinTheLimits) {
    const std::string policy = "skype_supernode";
    const std::string prefix = owned_prefix(policy);
    EXPECT_EQ(prefix.size(), 6U + 10 + 1);
    EXPECT_EQ(prefix.rfind("acctc-skyp", 0), 0U);
    const std::string a = counter_chain(policy, "protocols_tcp_in");
    const std::string b = counter_chain(policy, "protocols_tcp_out");
    EXPECT_LE(a.size(), max_chain_name);
    EXPECT_EQ(a.rfind(prefix + "c-", 0), 0U);
    EXPECT_NE(a, b);
    EXPECT_EQ(a, counter_chain(policy, "protocols_tcp_in")); // deterministic
    const std::string set = object_name(policy, "p-a_very_long_counter_name_v4-3600", max_set_name);
    EXPECT_EQ(set.size(), max_set_name);
}

TEST(IptablesNames, PrefixesOfDifferentPoliciesNeverNest) {
    // Identifiers hold no '-', so "acctc-ab-" is never a prefix of another policy's names.
    EXPECT_NE(counter_chain("ab_c", "x").rfind(owned_prefix("ab"), 0), 0U);
    EXPECT_NE(owned_prefix("a_long_policy_one"), owned_prefix("a_long_policy_two"));
}

TEST(IptablesNames, QuotaObjectsFitNfacctAndChangeWithTheQuota) {
    QuotaIdentity line{"line", QuotaRole::limit, QuotaPeriod::month, 15, true, "a.acct:4", 5000};
    const std::string name = quota_object("metered_line", 10000, line);
    EXPECT_LE(name.size(), max_nfacct_name);
    EXPECT_EQ(name.rfind(owned_prefix("metered_line"), 0), 0U);
    EXPECT_EQ(name, quota_object("metered_line", 10000, line)); // deterministic
    QuotaIdentity moved = line;
    moved.origin = "a.acct:9"; // the same quota written elsewhere: the same object
    EXPECT_EQ(quota_object("metered_line", 10000, moved), name);
    EXPECT_NE(quota_object("metered_line", 30000, line), name); // a new budget: a new object
    QuotaIdentity other = line;
    other.warn = 6000;
    EXPECT_NE(quota_object("metered_line", 10000, other), name);
    other = line;
    other.drop = false;
    EXPECT_NE(quota_object("metered_line", 10000, other), name);
    other = line;
    other.period = QuotaPeriod::day;
    EXPECT_NE(quota_object("metered_line", 10000, other), name);
    QuotaIdentity longer = line;
    longer.quota = "a_quota_name_far_longer_than_thirty_one_bytes";
    EXPECT_EQ(quota_object("a_long_policy_name", 1, longer).size(), max_nfacct_name);
    EXPECT_EQ(quota_object("qt", 10000, line).rfind("acctc-qt-line-", 0), 0U);
    EXPECT_EQ(quota_chain("qt", "line"), "acctc-qt-q-line");
}

TEST(IptablesNames, ChargeCommentsRoundTrip) {
    const QuotaIdentity line{
        "line", QuotaRole::limit, QuotaPeriod::month, 15, true, "/etc/acctc/a b\"c.acct:4", 5000};
    const std::string comment = encode_charge_comment(line);
    EXPECT_EQ(comment.rfind("acctcq:line acctcq1 q=4 role=limit per=month/15 drop warn=5000 @", 0),
              0U);
    EXPECT_EQ(comment.find_first_of(" \"", comment.find('@')), std::string::npos);
    EXPECT_EQ(decode_charge_comment(comment), line);
    EXPECT_FALSE(decode_charge_comment("acctc:line family=line"));
    EXPECT_FALSE(decode_charge_comment("acctcq:line"));
    EXPECT_FALSE(decode_charge_comment("acctcq:lin acctcq1 q=4 role=limit per=day"));
    QuotaIdentity far = line;
    far.origin = std::string(400, 'x') + ".acct:4";
    EXPECT_LE(encode_charge_comment(far).size(), iptables_comment_limit);
}

} // namespace
} // namespace acctc::iptables
