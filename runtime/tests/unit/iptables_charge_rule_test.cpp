// A quota's charge rule as iptables-save prints it (docs/iptables.md, "Quotas"): the nfacct
// object it charges and the quota its comment describes; no other rule is one, and a charge
// rule is never read as a counting rule.
#include "iptables_save.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

TEST(IptablesChargeRule, ReadsTheObjectAndTheQuotaAsIptablesSavePrintsThem) {
    const SavedTable table = parse_save(
        "*filter\n"
        ":acctc-qt-q-line - [0:0]\n"
        "[7:7196] -A acctc-qt-q-line -m nfacct --nfacct-name  acctc-qt-line-cq7mg5 -m comment "
        "--comment \"acctcq:line acctcq1 q=4 role=limit per=month/15 drop warn=5000 "
        "@/etc/acctc/qt.acct:4\" -j DROP\n"
        "[1:2] -A acctc-qt-c-wan_in -m comment --comment \"acctc:wan_in acctc1 f=3 "
        "direction=in @qt.acct:3\"\n"
        "[0:0] -A acctc-qt-x -m nfacct --nfacct-name  someone-else\n"
        "COMMIT\n");
    ASSERT_EQ(table.rules.size(), 3U);
    const auto charge = charge_rule(table.rules[0]);
    ASSERT_TRUE(charge);
    EXPECT_EQ(charge->chain, "acctc-qt-q-line");
    EXPECT_EQ(charge->object, "acctc-qt-line-cq7mg5");
    const QuotaIdentity expected{
        "line", QuotaRole::limit, QuotaPeriod::month, 15, true, "/etc/acctc/qt.acct:4", 5000};
    EXPECT_EQ(charge->identity, expected);
    EXPECT_EQ(counter_of(table.rules[0]), "");
    EXPECT_FALSE(charge_rule(table.rules[1])); // a counting rule
    EXPECT_FALSE(charge_rule(table.rules[2])); // an nfacct rule acctc did not write
}

} // namespace
} // namespace acctc::runtime
