// Line-based unified diff (Myers' O(ND) algorithm), as `diff -u` prints it.
#pragma once

#include <string>

namespace acctc::runtime {

// Empty when the texts are equal; otherwise "--- old\n+++ new\n@@ ... @@\n" hunks with
// `context` unchanged lines around each change.
std::string unified_diff(const std::string& old_text, const std::string& new_text,
                         const std::string& old_label, const std::string& new_label,
                         int context = 3);

} // namespace acctc::runtime
