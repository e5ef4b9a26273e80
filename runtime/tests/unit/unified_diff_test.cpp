#include "acctc/runtime/unified_diff.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

std::string numbered(int from, int to) {
    std::string text;
    for (int i = from; i <= to; ++i) {
        text += std::to_string(i) + "\n";
    }
    return text;
}

TEST(UnifiedDiff, EqualTextsGiveNothing) {
    EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x", "y"), "");
    EXPECT_EQ(unified_diff("", "", "x", "y"), "");
}

TEST(UnifiedDiff, OneChangeWithContext) {
    const std::string old_text = numbered(1, 10);
    std::string new_text = old_text;
    new_text.replace(new_text.find("5\n"), 2, "five\n");
    EXPECT_EQ(unified_diff(old_text, new_text, "old", "new"),
              "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

// acctc diff compares rules without their origins and shows the new ones: a policy whose
// lines moved (or that was named another way) is equal; a real change shows as itself.
TEST(UnifiedDiff, ComparesByKeyAndShowsTheNewText) {
    const std::string old_text = "a comment \"p.acct:1\"\nb comment \"p.acct:2\"\n"
                                 "c comment \"p.acct:3\"\n";
    const std::string moved = "a comment \"./p.acct:2\"\nb comment \"./p.acct:3\"\n"
                              "c comment \"./p.acct:4\"\n";
    EXPECT_EQ(unified_diff(old_text, moved, "old", "new", 3, without_origin), "");
    std::string changed = moved;
    changed.replace(changed.find("b "), 2, "B ");
    EXPECT_EQ(unified_diff(old_text, changed, "old", "new", 3, without_origin),
              "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a comment \"./p.acct:2\"\n"
              "-b comment \"p.acct:2\"\n+B comment \"./p.acct:3\"\n c comment \"./p.acct:4\"\n");
}

TEST(UnifiedDiff, FarApartChangesMakeTwoHunksNearOnesOne) {
    const std::string old_text = numbered(1, 20);
    std::string far = old_text;
    far.replace(far.find("\n2\n") + 1, 2, "");
    far.replace(far.find("\n19\n") + 1, 3, "");
    EXPECT_EQ(unified_diff(old_text, far, "a", "b"),
              "--- a\n+++ b\n@@ -1,5 +1,4 @@\n 1\n-2\n 3\n 4\n 5\n"
              "@@ -16,5 +15,4 @@\n 16\n 17\n 18\n-19\n 20\n");
    std::string near = old_text;
    near.replace(near.find("\n5\n") + 1, 2, "");
    near.replace(near.find("\n11\n") + 1, 3, "");
    const std::string diff = unified_diff(old_text, near, "a", "b");
    EXPECT_EQ(diff.find("@@ -"), diff.rfind("@@ -")) << diff; // one hunk
    EXPECT_NE(diff.find("@@ -2,13 +2,11 @@"), std::string::npos) << diff;
}

TEST(UnifiedDiff, InsertionsIntoEmptyAndDeletionsToEmpty) {
    EXPECT_EQ(unified_diff("", "a\nb\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    EXPECT_EQ(unified_diff("a\n", "", "x", "y"), "--- x\n+++ y\n@@ -1 +0,0 @@\n-a\n");
}

TEST(UnifiedDiff, FindsTheShortestEdit) {
    // Myers' classic example: ABCABBA -> CBABAC takes five edits.
    const auto lines = [](const std::string& letters) {
        std::string text;
        for (char c : letters) {
            text += std::string(1, c) + "\n";
        }
        return text;
    };
    const std::string diff = unified_diff(lines("ABCABBA"), lines("CBABAC"), "a", "b");
    int edits = 0;
    for (std::size_t at = diff.find("@@ -"); at != std::string::npos;
         at = diff.find('\n', at + 1)) {
        if (at + 1 < diff.size() && (diff[at + 1] == '-' || diff[at + 1] == '+')) {
            ++edits;
        }
    }
    EXPECT_EQ(edits, 5) << diff;
}

} // namespace
} // namespace acctc::runtime
