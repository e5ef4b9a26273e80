// The iptables emitter on hand-made rule tables: what lowering does not produce today but the
// emitter must still write correctly.
#include "emit_iptables.hpp"

#include <gtest/gtest.h>
#include <tuple>

namespace acctc {
namespace {

using rules::Condition;
using rules::Field;

rules::Table one_rule(std::vector<Condition> conditions) {
    rules::Table table;
    table.name = "acctc_p";
    table.policy = "p";
    table.counters.push_back({"c", {"c", CounterKind::counter, {}, "p.acct:1"}});
    rules::Rule rule;
    rule.conditions = std::move(conditions);
    rules::Statement count;
    count.name = "c";
    rule.statements.push_back(count);
    rule.origin = "p.acct:1";
    table.chains.push_back({"input", rules::Hook::input, {}, {rule}});
    return table;
}

Condition address(Field field, u128 hi, bool negate) {
    Condition c;
    c.field = field;
    c.negate = negate;
    c.numbers = IntervalSet::range(0, hi);
    return c;
}

std::size_t rules_jumping_to_counter(const std::string& text) {
    std::size_t count = 0;
    for (auto at = text.find("-j acctc-p-c-c"); at != std::string::npos;
         at = text.find("-j acctc-p-c-c", at + 1)) {
        ++count;
    }
    return count;
}

// iptables-nft refuses `! -s 0.0.0.0/0` (RULE_APPEND failed) and iptables-save drops
// `-s 0.0.0.0/0`: a whole-space address is no match at all, its negation never holds.
TEST(EmitIptables, EveryAddressIsNoMatchAndItsNegationNeverHolds) {
    for (const auto& [field, hi, text] :
         {std::tuple{Field::ip_saddr, u128{0xffffffff}, &IptablesText::v4},
          {Field::ip6_daddr, ~u128{0}, &IptablesText::v6}}) {
        const IptablesText any = emit_iptables(one_rule({address(field, hi, false)}));
        EXPECT_EQ(rules_jumping_to_counter(any.*text), 1U) << any.*text;
        EXPECT_EQ((any.*text).find("/0"), std::string::npos) << any.*text;
        const IptablesText none = emit_iptables(one_rule({address(field, hi, true)}));
        EXPECT_EQ(rules_jumping_to_counter(none.*text), 0U) << none.*text;
        EXPECT_EQ((none.*text).find("/0"), std::string::npos) << none.*text;
    }
}

// `! from X, to X` with X of several prefixes: every alternative shares one list of vetoes,
// written once in one sub-chain.
TEST(EmitIptables, SharedVetoesAreWrittenOnce) {
    Condition from;
    from.field = Field::ip_saddr;
    from.negate = true;
    Condition to;
    to.field = Field::ip_daddr;
    for (u128 a : {0xC6120001, 0xC6120003, 0xC6120005}) {
        from.numbers.add(a, a);
        to.numbers.add(a, a);
    }
    const std::string v4 = emit_iptables(one_rule({from, to})).v4;
    EXPECT_NE(v4.find(":acctc-p-input-x0 "), std::string::npos) << v4;
    EXPECT_EQ(v4.find(":acctc-p-input-x0-1"), std::string::npos) << v4;
    std::size_t returns = 0;
    for (auto at = v4.find("-j RETURN"); at != std::string::npos;
         at = v4.find("-j RETURN", at + 1)) {
        ++returns;
    }
    EXPECT_EQ(returns, 3U) << v4;
    EXPECT_EQ(rules_jumping_to_counter(v4), 3U) << v4;
}

} // namespace
} // namespace acctc
