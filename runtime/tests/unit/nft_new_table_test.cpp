#include "nft_new_table.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

// The compiler's layout of a large classification: a counting set with its elements, a base
// chain jumping to the classify chain, a part chain looking the set up.
const std::string definition = "table inet acctc_t {\n"
                               "\tcounter rest {\n"
                               "\t\tcomment \"acctc1 class=rest @t.acct:9\"\n"
                               "\t}\n"
                               "\n"
                               "\tset classify_svc_e0 {\n"
                               "\t\ttype inet_service\n"
                               "\t\tcounter\n"
                               "\t\tcomment \"acctc-elements inet_service @t.acct:2\"\n"
                               "\t\telements = { 1000 comment \"svc_c0 acctc1 @t.acct:3\",\n"
                               "\t\t\t1001 comment \"svc_c1 acctc1 @t.acct:4\" }\n"
                               "\t}\n"
                               "\n"
                               "\tchain output {\n"
                               "\t\ttype filter hook output priority filter - 10; policy accept;\n"
                               "\t\toifname \"lo\" jump classify_svc comment \"t.acct:2\"\n"
                               "\t}\n"
                               "\n"
                               "\tchain classify_svc {\n"
                               "\t\tudp dport @classify_svc_e0 return comment \"t.acct:2\"\n"
                               "\t\tcounter name \"rest\" comment \"t.acct:9\"\n"
                               "\t}\n"
                               "}\n";

std::vector<CompiledPolicy::ElementSet> counting_sets() {
    CompiledPolicy::ElementSet set;
    set.name = "classify_svc_e0";
    set.types = {"inet_service"};
    set.elements = {{"\x03\xe8", "svc_c0", "svc_c0 acctc1 @t.acct:3"},
                    {"\x03\xe9", "svc_c1", "svc_c1 acctc1 @t.acct:4"}};
    return {set};
}

TEST(NewTableSteps, EmptiesTheCountingSetsAndMovesTheBaseChainsRulesToAFillChain) {
    const auto steps = new_table_steps(definition, counting_sets());
    ASSERT_TRUE(steps.has_value());
    EXPECT_EQ(steps->base_chains, std::vector<std::string>{"output"});
    EXPECT_EQ(steps->definition,
              "table inet acctc_t {\n"
              "\tcounter rest {\n"
              "\t\tcomment \"acctc1 class=rest @t.acct:9\"\n"
              "\t}\n"
              "\n"
              "\tset classify_svc_e0 {\n"
              "\t\ttype inet_service\n"
              "\t\tcounter\n"
              "\t\tcomment \"acctc-elements inet_service @t.acct:2\"\n"
              "\t}\n"
              "\n"
              "\tchain output {\n"
              "\t\ttype filter hook output priority filter - 10; policy accept;\n"
              "\t}\n"
              "\tchain output.fill {\n"
              "\t\toifname \"lo\" jump classify_svc comment \"t.acct:2\"\n"
              "\t}\n"
              "\n"
              "\tchain classify_svc {\n"
              "\t\tudp dport @classify_svc_e0 return comment \"t.acct:2\"\n"
              "\t\tcounter name \"rest\" comment \"t.acct:9\"\n"
              "\t}\n"
              "}\n");
}

TEST(NewTableSteps, NotForABaseChainRuleWithAnAnonymousSet) {
    std::string text = definition;
    text.replace(text.find("oifname \"lo\""), 12, "oifname { \"lo\", \"eth0\" }");
    EXPECT_FALSE(new_table_steps(text, counting_sets()).has_value());
}

TEST(NewTableSteps, NotWithoutCountingSets) {
    EXPECT_FALSE(new_table_steps(definition, {}).has_value());
}

} // namespace
} // namespace acctc::runtime
