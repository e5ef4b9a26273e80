// SourceFile: positions and the "file:line" origins carried in generated rule comments (the
// safe form of the name is made once per file, not once per class).
#include "acctc/source.hpp"

#include <gtest/gtest.h>
#include <string>

namespace acctc {
namespace {

TEST(SourceFile, OriginNamesTheLineWithAQuoteSafeName) {
    const SourceFile file("dir/my policy\"x\n.acct", "policy p\n\ncounter c { }\n");
    EXPECT_EQ(file.origin(0), "dir/my_policy_x_.acct:1");
    EXPECT_EQ(file.origin(10), "dir/my_policy_x_.acct:3");
    EXPECT_EQ(file.origin(1000), "dir/my_policy_x_.acct:4"); // past the end: the last line
}

// A policy from standard input: errors say <stdin>:3:1, the rules' origins stdin:3 (they
// read _stdin_:3, the brackets made safe).
TEST(SourceFile, StandardInputIsStdinInOrigins) {
    const SourceFile file(std::string(stdin_name), "policy p\n\ncounter c { }\n");
    EXPECT_EQ(file.name(), "<stdin>");
    EXPECT_EQ(file.origin(10), "stdin:3");
}

TEST(SourceFile, OriginKeepsTheTailOfLongNames) {
    const std::string name = std::string(200, 'a') + "/policy.acct";
    const SourceFile file(name, "policy p\n");
    const std::string origin = file.origin(0);
    EXPECT_EQ(origin, "..." + name.substr(name.size() - 96) + ":1");
    const SourceFile exact(std::string(96, 'b'), "");
    EXPECT_EQ(exact.origin(0), std::string(96, 'b') + ":1");
}

} // namespace
} // namespace acctc
