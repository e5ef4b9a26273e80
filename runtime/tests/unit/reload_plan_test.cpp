#include "acctc/runtime/errors.hpp"
#include "reload_plan.hpp"

#include <gtest/gtest.h>
#include <linux/netfilter/nf_tables.h>

namespace acctc::runtime {
namespace {

TEST(ReloadPlan, SplitsCountersIntoKeptAddedRemoved) {
    const auto plan = plan_counters({"a", "b", "c"}, {"c", "d", "b"});
    EXPECT_EQ(plan.kept, (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(plan.added, std::vector<std::string>{"d"});
    EXPECT_EQ(plan.removed, std::vector<std::string>{"a"});
}

TEST(ReloadPlan, NewTableIsJustTheDefinition) {
    const auto reload =
        reload_transactions("acctc_t", nullptr, "table inet acctc_t {\n}", {}, true);
    EXPECT_EQ(reload.commit, "table inet acctc_t\ntable inet acctc_t {\n}\n");
    EXPECT_EQ(reload.cleanup, "");
}

const std::string definition = "table inet acctc_t {\n"
                               "\tcounter total { comment \"t.acct:2\" }\n"
                               "\tquota q { over 10 mbytes }\n"
                               "\tset ports { type inet_service; elements = { 9 } }\n"
                               "\tchain output {\n"
                               "\t\ttype filter hook output priority filter; policy accept;\n"
                               "\t\tudp dport @ports counter name \"total\"\n"
                               "\t}\n"
                               "\tchain helper {\n"
                               "\t\ttype filter hook input priority filter; policy accept;\n"
                               "\t}\n"
                               "}\n";

TEST(ReloadPlan, DeclaredNames) {
    const auto names = declared_names(definition);
    EXPECT_EQ(names.chains, (std::map<std::string, bool>{{"helper", true}, {"output", true}}));
    EXPECT_EQ(names.sets, std::set<std::string>{"ports"});
    EXPECT_EQ(names.objects, std::set<std::string>{"q"});
}

TEST(ReloadPlan, CommitSwapsCleanupDeletesWhatNothingUsesAnyMore) {
    TableInventory inventory;
    inventory.chains = {{"output", true}, {"helper", false}, {"old_base", true}, {"old", false}};
    inventory.sets = {{"ports", false}, {"by_port", true}};
    inventory.objects = {{"q", NFT_OBJECT_QUOTA}, {"old_q", NFT_OBJECT_QUOTA}};
    inventory.flowtables = {"ft"};
    const auto reload = reload_transactions("acctc_t", &inventory, definition, {"gone"}, true);
    EXPECT_EQ(reload.commit, "table inet acctc_t\n"
                             "flush table inet acctc_t\n"
                             "delete set inet acctc_t ports\n"
                             "delete flowtable inet acctc_t ft\n"
                             "delete chain inet acctc_t helper\n"
                             "delete chain inet acctc_t old_base\n" +
                                 definition);
    EXPECT_EQ(reload.cleanup, "delete map inet acctc_t by_port\n"
                              "delete chain inet acctc_t old\n"
                              "delete quota inet acctc_t old_q\n"
                              "delete counter inet acctc_t gone\n");
    // Without keep_chains, base chains declared again are re-created too.
    const auto all = reload_transactions("acctc_t", &inventory, definition, {}, false);
    EXPECT_NE(all.commit.find("delete chain inet acctc_t output\n"), std::string::npos);
}

TEST(ReloadPlan, NamesMustBeIdentifiers) {
    EXPECT_EQ(identifier("skype_tcp_in"), "skype_tcp_in");
    EXPECT_THROW(identifier("a b"), RuntimeError);
    EXPECT_THROW(identifier("9x"), RuntimeError);
}

} // namespace
} // namespace acctc::runtime
