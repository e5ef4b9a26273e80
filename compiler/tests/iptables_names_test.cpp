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

} // namespace
} // namespace acctc::iptables
