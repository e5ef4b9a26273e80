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
    EXPECT_TRUE(reload.cleanup.empty());
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
    EXPECT_EQ(cleanup_text("acctc_t", reload.cleanup), "delete map inet acctc_t by_port\n"
                                                       "delete chain inet acctc_t old\n"
                                                       "delete quota inet acctc_t old_q\n"
                                                       "delete counter inet acctc_t gone\n");
    // Without keep_chains, base chains declared again are re-created too.
    const auto all = reload_transactions("acctc_t", &inventory, definition, {}, false);
    EXPECT_NE(all.commit.find("delete chain inet acctc_t output\n"), std::string::npos);
}

const std::string classify = "table inet acctc_c {\n"
                             "\tcounter a { comment \"c.acct:2\" }\n"
                             "\tchain output {\n"
                             "\t\ttype filter hook output priority filter; policy accept;\n"
                             "\t\tjump classify comment \"c.acct:1\"\n"
                             "\t}\n"
                             "\tchain classify {\n"
                             "\t\tcounter name udp dport map { 1-8 : \"a\" } return\n"
                             "\t\tcounter name \"a\"\n"
                             "\t}\n"
                             "}\n";

// A dispatch to element-counting parts (a vmap of gotos): every changed part is staged and the
// kept rule that dispatches is replaced to reach all of them, the last and the others alike (a
// target followed by a comma was missed, and its old, flushed chain could not be deleted).
TEST(ReloadPlan, AVmapRuleReachesEveryStagedTarget) {
    const std::string parts = "table inet acctc_c {\n"
                              "\tchain output {\n"
                              "\t\ttype filter hook output priority filter; policy accept;\n"
                              "\t\tjhash udp dport mod 2 seed 0x0 vmap { 0 : goto p0, 1 : goto "
                              "p1 } comment \"c.acct:1\"\n"
                              "\t}\n"
                              "\tchain p0 {\n\t\treturn\n\t}\n"
                              "\tchain p1 {\n\t\treturn\n\t}\n"
                              "}\n";
    TableInventory inventory;
    inventory.chains = {{"output", true}, {"p0", false}, {"p1", false}};
    const LiveChains live{{"output"}, {{"output", {7}}}};
    const auto reload = reload_transactions("acctc_c", &inventory, parts, {}, true, {}, live, true);
    EXPECT_NE(reload.commit.find("replace rule inet acctc_c output handle 7 jhash udp dport mod 2 "
                                 "seed 0x0 vmap { 0 : goto p0.next, 1 : goto p1.next }"),
              std::string::npos)
        << reload.commit;
}

TEST(ReloadPlan, ChainBlocks) {
    const auto blocks = chain_blocks(classify);
    ASSERT_EQ(blocks.size(), 2U);
    EXPECT_EQ(blocks.at("classify"), "\tchain classify {\n"
                                     "\t\tcounter name udp dport map { 1-8 : \"a\" } return\n"
                                     "\t\tcounter name \"a\"\n"
                                     "\t}\n");
}

// The rules of unchanged chains are neither flushed nor re-added: their anonymous maps stay,
// and no packet can meet a map that is not filled yet.
TEST(ReloadPlan, UnchangedChainsKeepTheirRules) {
    TableInventory inventory;
    inventory.chains = {{"output", true}, {"classify", false}, {"old", false}};
    const auto reload = reload_transactions("acctc_c", &inventory, classify, {}, true, {},
                                            LiveChains{{"output", "classify"}, {}});
    EXPECT_EQ(reload.commit, "table inet acctc_c\n"
                             "flush chain inet acctc_c old\n"
                             "table inet acctc_c {\n"
                             "\tcounter a { comment \"c.acct:2\" }\n"
                             "\tchain output {\n"
                             "\t\ttype filter hook output priority filter; policy accept;\n"
                             "\t}\n"
                             "\tchain classify {\n"
                             "\t}\n"
                             "}\n");
    EXPECT_EQ(cleanup_text("acctc_c", reload.cleanup), "delete chain inet acctc_c old\n");
    // Only the changed one is flushed and refilled.
    const auto one = reload_transactions("acctc_c", &inventory, classify, {}, true, {},
                                         LiveChains{{"output"}, {}});
    EXPECT_NE(one.commit.find("flush chain inet acctc_c classify\n"), std::string::npos);
    EXPECT_NE(one.commit.find("return\n"), std::string::npos);
    EXPECT_EQ(one.commit.find("jump classify"), std::string::npos);
    // Re-created base chains and re-created sets take every rule with them.
    const auto hooks = reload_transactions("acctc_c", &inventory, classify, {}, false, {},
                                           LiveChains{{"output", "classify"}, {}});
    EXPECT_NE(hooks.commit.find("delete chain inet acctc_c output\n"), std::string::npos);
    EXPECT_NE(hooks.commit.find("jump classify"), std::string::npos);
    inventory.sets = {{"s", false}};
    const auto set = reload_transactions("acctc_c", &inventory,
                                         "table inet acctc_c {\n\tset s { type ipv4_addr; }\n" +
                                             classify.substr(classify.find('\n') + 1),
                                         {}, true, {}, LiveChains{{"output", "classify"}, {}});
    EXPECT_NE(set.commit.find("flush table inet acctc_c\n"), std::string::npos);
}

// Kept counters are not declared again (re-added in place, they would change nothing): only
// new ones are, in the stage and in the commit; blocks of one line or several alike.
TEST(ReloadPlan, KeptCountersAreNotDeclaredAgain) {
    TableInventory inventory;
    inventory.chains = {{"output", true}, {"classify", false}};
    const std::string two = "table inet acctc_c {\n"
                            "\tcounter b {\n\t\tcomment \"c.acct:3\"\n\t}\n" +
                            classify.substr(classify.find('\n') + 1);
    const auto reload = reload_transactions("acctc_c", &inventory, two, {}, true, {},
                                            LiveChains{{"output"}, {{"output", {7}}}}, true,
                                            std::set<std::string>{"a"});
    EXPECT_EQ(reload.commit.find("counter a {"), std::string::npos) << reload.commit;
    EXPECT_EQ(reload.stage.find("counter a {"), std::string::npos) << reload.stage;
    EXPECT_NE(reload.stage.find("\tcounter b {\n\t\tcomment \"c.acct:3\"\n\t}\n"),
              std::string::npos)
        << reload.stage;
    EXPECT_NE(reload.stage.find("chain classify.next {"), std::string::npos) << reload.stage;
    // The rules naming it stay.
    EXPECT_NE(reload.stage.find("counter name \"a\""), std::string::npos) << reload.stage;
    const auto unstaged = reload_transactions("acctc_c", &inventory, two, {}, true, {}, {}, false,
                                              std::set<std::string>{"a", "b"});
    EXPECT_EQ(unstaged.commit.find("counter a {"), std::string::npos) << unstaged.commit;
    EXPECT_EQ(unstaged.commit.find("counter b {"), std::string::npos) << unstaged.commit;
    EXPECT_NE(unstaged.commit.find("counter name \"a\""), std::string::npos) << unstaged.commit;
}

// A reload that leaves every chain, set and object as it is needs only counter messages (one
// netlink transaction instead of libnftables); anything else goes through the full reload.
TEST(ReloadPlan, OnlyCountersChangeWhenEveryChainSetAndObjectStays) {
    TableInventory inventory;
    inventory.chains = {{"output", true}, {"classify", false}};
    const LiveChains both{{"output", "classify"}, {}};
    EXPECT_TRUE(only_counters_change(inventory, classify, {}, both));
    // A chain whose rules change, a chain only the table has, a base chain no more.
    EXPECT_FALSE(only_counters_change(inventory, classify, {}, LiveChains{{"output"}, {}}));
    TableInventory extra = inventory;
    extra.chains.push_back({"old", false});
    EXPECT_FALSE(only_counters_change(extra, classify, {}, both));
    TableInventory hooked = inventory;
    hooked.chains[1].base = true;
    EXPECT_FALSE(only_counters_change(hooked, classify, {}, both));
    // Quotas (the kernel updates one re-added in place) and flowtables.
    TableInventory quota = inventory;
    quota.objects = {{"q", NFT_OBJECT_QUOTA}};
    EXPECT_FALSE(only_counters_change(quota, classify, {}, both));
    TableInventory flowtable = inventory;
    flowtable.flowtables = {"ft"};
    EXPECT_FALSE(only_counters_change(flowtable, classify, {}, both));
    // Sets: kept with packet-state elements, yes; refilled from the definition, new,
    // replaced or removed, no.
    const std::string with_set = "table inet acctc_c {\n\tset hosts { type ipv4_addr; flags "
                                 "dynamic; }\n" +
                                 classify.substr(classify.find('\n') + 1);
    TableInventory sets = inventory;
    sets.sets = {{"hosts", false}};
    SetPlan kept;
    kept.kept = {"hosts"};
    kept.keep = {{"hosts", true}};
    EXPECT_TRUE(only_counters_change(sets, with_set, kept, both));
    SetPlan refilled = kept;
    refilled.keep["hosts"] = false;
    EXPECT_FALSE(only_counters_change(sets, with_set, refilled, both));
    EXPECT_FALSE(only_counters_change(inventory, with_set, {}, both));
    SetPlan replaced;
    replaced.replaced = {{"hosts", "type ipv4_addr -> ipv6_addr"}};
    EXPECT_FALSE(only_counters_change(sets, with_set, replaced, both));
    SetPlan removed;
    removed.removed = {"hosts"};
    EXPECT_FALSE(only_counters_change(sets, classify, removed, both));
}

// A changed chain is filled as NAME.next before the commit; the commit only turns the jump
// (by handle, in a base chain left alone), and the cleanup gives the name back.
TEST(ReloadPlan, ChangedChainsAreStagedFirst) {
    TableInventory inventory;
    inventory.chains = {{"output", true}, {"classify", false}};
    const LiveChains live{{"output"}, {{"output", {7}}}};
    const auto reload =
        reload_transactions("acctc_c", &inventory, classify, {}, true, {}, live, true);
    EXPECT_EQ(reload.stage, "table inet acctc_c {\n"
                            "\tcounter a { comment \"c.acct:2\" }\n"
                            "\tchain classify.next {\n"
                            "\t\tcounter name udp dport map { 1-8 : \"a\" } return\n"
                            "\t\tcounter name \"a\"\n"
                            "\t}\n"
                            "}\n");
    // The old chain keeps its rules through the commit: a packet inside it may still look up
    // its anonymous map, whose elements go with the rule.
    EXPECT_EQ(reload.commit, "table inet acctc_c\n"
                             "replace rule inet acctc_c output handle 7 jump classify.next "
                             "comment \"c.acct:1\"\n"
                             "table inet acctc_c {\n"
                             "\tcounter a { comment \"c.acct:2\" }\n"
                             "\tchain output {\n"
                             "\t\ttype filter hook output priority filter; policy accept;\n"
                             "\t}\n"
                             "\tchain classify {\n"
                             "\t}\n"
                             "}\n");
    EXPECT_EQ(cleanup_text("acctc_c", reload.cleanup),
              "flush chain inet acctc_c classify\n"
              "delete chain inet acctc_c classify\n"
              "rename chain inet acctc_c classify.next classify\n");
    EXPECT_EQ(reload.unstage, "flush chain inet acctc_c classify.next\n"
                              "delete chain inet acctc_c classify.next\n");
    EXPECT_TRUE(reload.renames);
    // A copy left by a killed reload may be in use: another name, and the old copy goes.
    inventory.chains.push_back({"classify.next", false});
    const auto again =
        reload_transactions("acctc_c", &inventory, classify, {}, true, {}, live, true);
    EXPECT_NE(again.stage.find("\tchain classify.next1 {\n"), std::string::npos);
    EXPECT_EQ(again.commit.find("flush chain"), std::string::npos);
    EXPECT_EQ(cleanup_text("acctc_c", again.cleanup),
              "flush chain inet acctc_c classify\n"
              "flush chain inet acctc_c classify.next\n"
              "delete chain inet acctc_c classify.next\n"
              "delete chain inet acctc_c classify\n"
              "rename chain inet acctc_c classify.next1 classify\n");
    inventory.chains.pop_back();
    // Without a record of the base chain's rules, its rules are re-added, jumping to the copy.
    const auto unknown =
        reload_transactions("acctc_c", &inventory, classify, {}, true, {}, {}, true);
    EXPECT_NE(unknown.commit.find("flush chain inet acctc_c output\n"), std::string::npos);
    EXPECT_NE(unknown.commit.find("\t\tjump classify.next comment"), std::string::npos);
    // A new chain is filled under its own name.
    inventory.chains = {{"output", true}};
    const auto fresh = reload_transactions("acctc_c", &inventory, classify, {}, true, {},
                                           LiveChains{{"output"}, {{"output", {7}}}}, true);
    EXPECT_NE(fresh.stage.find("\tchain classify {\n\t\tcounter name udp"), std::string::npos);
    EXPECT_TRUE(fresh.cleanup.empty());
    // Sets that exist keep their elements until the commit; new ones are filled with the chains.
    inventory.sets = {{"old", false}};
    const std::string with_sets =
        "table inet acctc_c {\n"
        "\tset old {\n\t\ttype ipv4_addr\n\t\telements = { 1.2.3.4 }\n\t}\n"
        "\tset fresh { type ipv4_addr; elements = { 5.6.7.8 } }\n" +
        classify.substr(classify.find('\n') + 1);
    const auto sets =
        reload_transactions("acctc_c", &inventory, with_sets, {}, true, {{"old", false}},
                            LiveChains{{"output"}, {{"output", {7}}}}, true);
    EXPECT_EQ(sets.stage.find("1.2.3.4"), std::string::npos) << sets.stage;
    EXPECT_NE(sets.stage.find("\tset fresh { type ipv4_addr; elements = { 5.6.7.8 } }\n"),
              std::string::npos)
        << sets.stage;
    EXPECT_NE(sets.stage.find("\tcounter a {"), std::string::npos) << sets.stage;
}

TEST(ReloadPlan, NamesMustBeIdentifiers) {
    EXPECT_EQ(identifier("skype_tcp_in"), "skype_tcp_in");
    EXPECT_THROW(identifier("a b"), RuntimeError);
    EXPECT_THROW(identifier("9x"), RuntimeError);
}

} // namespace
} // namespace acctc::runtime
