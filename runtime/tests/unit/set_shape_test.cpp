#include "reload_plan.hpp"
#include "set_shape.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

const std::string compiled = "table inet acctc_s {\n"
                             "\tset peers_v4 {\n"
                             "\t\ttype ipv4_addr\n"
                             "\t\tsize 65535\n"
                             "\t\tflags dynamic,timeout\n"
                             "\t\ttimeout 1h\n"
                             "\t\tcomment \"s.acct:9 ; \"\n"
                             "\t}\n"
                             "\tset ports { type inet_service; elements = { 9, 10 } }\n"
                             "\tmap by_port { type inet_service : counter; elements = { 9 : c } }\n"
                             "\tset tm { typeof ip saddr . udp dport; timeout 90s; policy "
                             "performance; counter; }\n"
                             "\tchain output {\n"
                             "\t\tudp dport @ports counter\n"
                             "\t}\n"
                             "}\n";

// As `nft -t list set` prints them.
const std::string listed = "table inet acctc_s {\n"
                           "\tset peers_v4 {\n"
                           "\t\ttype ipv4_addr\n"
                           "\t\tsize 65535\n"
                           "\t\tflags dynamic,timeout\n"
                           "\t\ttimeout 1h\n"
                           "\t\tcomment \"s.acct:1\"\n"
                           "\t}\n"
                           "}\n"
                           "table inet acctc_s {\n"
                           "\tset tm {\n"
                           "\t\ttypeof ip saddr . udp dport\n"
                           "\t\tcounter\n"
                           "\t\ttimeout 1m30s\n"
                           "\t}\n"
                           "}\n";

TEST(SetShape, ParsesCompiledAndListedDeclarationsAlike) {
    const auto wanted = parse_set_shapes(compiled);
    ASSERT_EQ(wanted.size(), 4U);
    EXPECT_TRUE(wanted.at("by_port").map);
    EXPECT_EQ(wanted.at("by_port").settings.at("type"), "type inet_service : counter");
    EXPECT_TRUE(wanted.at("peers_v4").dynamic());
    EXPECT_FALSE(wanted.at("ports").dynamic());
    EXPECT_TRUE(wanted.at("tm").dynamic()); // a default timeout implies the flag
    const auto live = parse_set_shapes(listed);
    EXPECT_EQ(shape_change(live.at("peers_v4"), wanted.at("peers_v4")), "");
    EXPECT_EQ(shape_change(live.at("tm"), wanted.at("tm")), "");
}

TEST(SetShape, DescribesChanges) {
    const auto before = parse_set_shapes(compiled).at("peers_v4");
    auto text = compiled;
    text.replace(text.find("timeout 1h"), 10, "timeout 7200");
    text.replace(text.find("ipv4_addr"), 9, "ipv6_addr");
    EXPECT_EQ(shape_change(before, parse_set_shapes(text).at("peers_v4")),
              "timeout 1h -> 2h, type ipv4_addr -> type ipv6_addr");
    EXPECT_EQ(shape_change(parse_set_shapes(compiled).at("ports"),
                           parse_set_shapes(compiled).at("by_port")),
              "set -> map");
}

TEST(SetShape, NftTimes) {
    EXPECT_EQ(parse_nft_time_ms("1h30m"), 5'400'000);
    EXPECT_EQ(parse_nft_time_ms("9m59s844ms"), 599'844);
    EXPECT_EQ(parse_nft_time_ms("90"), 90'000);
    EXPECT_EQ(parse_nft_time_ms("soon"), -1);
    EXPECT_EQ(format_nft_time_ms(90'000), "1m30s");
    EXPECT_EQ(format_nft_time_ms(86'400'000 + 5), "1d5ms");
}

TEST(SetShape, PlanKeepsSameReplacesChangedRemovesGone) {
    const auto wanted = parse_set_shapes(compiled);
    auto live = parse_set_shapes(compiled);
    live.at("tm").settings["timeout"] = "1m";
    const auto plan = plan_sets({{"peers_v4", false},
                                 {"ports", false},
                                 {"by_port", true},
                                 {"tm", false},
                                 {"old", false},
                                 {"unlisted", false}},
                                live, wanted);
    EXPECT_EQ(plan.kept, (std::vector<std::string>{"by_port", "peers_v4", "ports"}));
    ASSERT_EQ(plan.replaced.size(), 1U);
    EXPECT_EQ(plan.replaced[0], std::make_pair(std::string("tm"), std::string("timeout 1m -> "
                                                                              "1m30s")));
    EXPECT_EQ(plan.removed, (std::vector<std::string>{"old", "unlisted"}));
    EXPECT_EQ(plan.keep, (std::map<std::string, bool>{
                             {"by_port", false}, {"peers_v4", true}, {"ports", false}}));
}

TEST(SetShape, KeptSetsAreReAddedInPlaceConstantOnesRefilled) {
    TableInventory inventory;
    inventory.chains = {{"output", false}};
    inventory.sets = {{"peers_v4", false}, {"ports", false}, {"by_port", true}, {"tm", false}};
    const auto reload = reload_transactions("acctc_s", &inventory, compiled, {}, true,
                                            {{"peers_v4", true}, {"ports", false}});
    EXPECT_EQ(reload.commit, "table inet acctc_s\n"
                             "flush table inet acctc_s\n"
                             "flush set inet acctc_s ports\n"
                             "delete map inet acctc_s by_port\n"
                             "delete set inet acctc_s tm\n" +
                                 compiled);
    EXPECT_TRUE(reload.cleanup.empty());
}

} // namespace
} // namespace acctc::runtime
