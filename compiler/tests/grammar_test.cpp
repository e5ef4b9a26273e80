// Grammar: no rule can loop without progress, and the parser builds the tree it should.
#include "grammar.hpp"
#include "parser.hpp"

#include <gtest/gtest.h>
#include <tao/pegtl/contrib/analyze.hpp>

namespace acctc {
namespace {

TEST(Grammar, HasNoRulesThatCanLoopWithoutProgress) {
    EXPECT_EQ(tao::pegtl::analyze<grammar::statement>(), 0U);
}

ast::Policy parse(const std::string& text, Diagnostics& diagnostics) {
    const SourceFile file("t.acct", text);
    return parse_policy(file, diagnostics);
}

TEST(Grammar, ParsesTheSeedExample) {
    Diagnostics diagnostics;
    const std::string text = "policy skype\ninterface wan = eth0\n"
                             "counter skype {\n  owner group skype\n  via wan\n"
                             "  listen tcp 21212, udp 21212\n  follow connection\n"
                             "  split protocol tcp, udp\n  split direction\n}\n";
    const auto policy = parse(text, diagnostics);
    ASSERT_FALSE(diagnostics.has_errors());
    ASSERT_EQ(policy.statements.size(), 3U);
    const auto& counter = std::get<ast::CounterDecl>(policy.statements[2]);
    EXPECT_EQ(counter.name.text, "skype");
    ASSERT_EQ(counter.clauses.size(), 6U);
    const auto& owner = std::get<ast::OwnerClause>(counter.clauses[0]);
    EXPECT_EQ(owner.kind, ast::OwnerClause::Kind::group);
    const auto& listen = std::get<ast::ListenClause>(counter.clauses[2]);
    ASSERT_EQ(listen.items.size(), 2U);
    EXPECT_EQ(listen.items[1].protocol, "udp");
    EXPECT_EQ(listen.items[1].text, "21212");
    const auto& split = std::get<ast::SplitProtocolClause>(counter.clauses[4]);
    ASSERT_EQ(split.items.size(), 2U);
    EXPECT_TRUE(std::holds_alternative<ast::SplitDirectionClause>(counter.clauses[5]));
    // A split clause spans from its `split` keyword, which names it in diagnostics.
    const auto& direction = std::get<ast::SplitDirectionClause>(counter.clauses[5]);
    EXPECT_EQ(text.substr(direction.range.begin, direction.range.end - direction.range.begin),
              "split direction");
    EXPECT_EQ(
        text.substr(split.keyword_range.begin, split.keyword_range.end - split.keyword_range.begin),
        "split");
}

TEST(Grammar, PortRangesServicesAndOpenRanges) {
    Diagnostics diagnostics;
    const auto policy =
        parse("policy p\ncounter c { tcp, udp sport ftp-data..ftp, 80, 1024.. }\n", diagnostics);
    ASSERT_FALSE(diagnostics.has_errors());
    const auto& clause =
        std::get<ast::PortClause>(std::get<ast::CounterDecl>(policy.statements[1]).clauses[0]);
    EXPECT_EQ(clause.side, ast::Side::source);
    ASSERT_EQ(clause.protocols.size(), 2U);
    ASSERT_EQ(clause.items.size(), 3U);
    EXPECT_EQ(clause.items[0].kind, ast::Item::Kind::range);
    EXPECT_EQ(clause.items[0].text, "ftp-data");
    EXPECT_EQ(clause.items[0].upper, "ftp");
    EXPECT_EQ(clause.items[2].upper, "");
}

TEST(Grammar, KeywordsAreNotTakenAsValues) {
    Diagnostics diagnostics;
    const auto policy = parse("policy p\ncounter c { icmp in via x }\n", diagnostics);
    ASSERT_EQ(diagnostics.error_count(), 0U);
    const auto& clauses = std::get<ast::CounterDecl>(policy.statements[1]).clauses;
    ASSERT_EQ(clauses.size(), 3U);
    EXPECT_TRUE(std::get<ast::IcmpClause>(clauses[0]).items.empty()); // bare icmp: the protocol
    EXPECT_EQ(std::get<ast::DirectionClause>(clauses[1]).kind, ast::DirectionClause::Kind::in);
}

TEST(Grammar, AddressesAliasesAndPeers) {
    Diagnostics diagnostics;
    const auto policy = parse("policy p\ncounter c { from face, 198.18.0.0/15, 2001:db8::1, ::1 }\n"
                              "counter d { to peers of c }\n",
                              diagnostics);
    ASSERT_FALSE(diagnostics.has_errors());
    const auto& items =
        std::get<ast::AddressClause>(std::get<ast::CounterDecl>(policy.statements[1]).clauses[0])
            .items;
    ASSERT_EQ(items.size(), 4U);
    EXPECT_EQ(items[0].kind, ast::Item::Kind::word); // "face" is an alias, not hex
    EXPECT_EQ(items[1].kind, ast::Item::Kind::address);
    EXPECT_EQ(items[3].kind, ast::Item::Kind::address);
    const auto& peers =
        std::get<ast::AddressClause>(std::get<ast::CounterDecl>(policy.statements[2]).clauses[0])
            .items;
    EXPECT_EQ(peers[0].kind, ast::Item::Kind::peers);
    EXPECT_EQ(peers[0].text, "c");
}

// A file saved with a UTF-8 byte order mark (some editors add one) parses as without it.
TEST(Grammar, SkipsAByteOrderMark) {
    Diagnostics diagnostics;
    const auto policy = parse("\xEF\xBB\xBFpolicy p\ncounter c { tcp port 80 }\n", diagnostics);
    EXPECT_FALSE(diagnostics.has_errors());
    EXPECT_EQ(policy.statements.size(), 2U);
}

TEST(Grammar, ReportsEveryBrokenStatementAndKeepsTheRest) {
    Diagnostics diagnostics;
    const auto policy = parse("policy p\ncounter a { tcp dport }\ncounter b { in }\n"
                              "counter c { bogus }\ncounter d { out }\n",
                              diagnostics);
    EXPECT_EQ(diagnostics.error_count(), 2U);
    EXPECT_EQ(policy.statements.size(), 3U); // policy, b, d
}

TEST(Grammar, ClassifyWithOtherwise) {
    Diagnostics diagnostics;
    const auto policy = parse("policy p\nclassify use forward in via l {\n"
                              "  essential: tcp sport 20..21, 25\n  otherwise: rest\n}\n",
                              diagnostics);
    ASSERT_FALSE(diagnostics.has_errors());
    const auto& classify = std::get<ast::ClassifyDecl>(policy.statements[1]);
    EXPECT_EQ(classify.header.size(), 3U);
    ASSERT_EQ(classify.branches.size(), 2U);
    EXPECT_FALSE(classify.branches[0].otherwise);
    EXPECT_TRUE(classify.branches[1].otherwise);
    EXPECT_EQ(classify.branches[1].label.text, "rest");
}

} // namespace
} // namespace acctc
