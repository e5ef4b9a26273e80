// Line-based unified diff (Myers' O(ND) algorithm), as `diff -u` prints it.
#pragma once

#include <functional>
#include <string>

namespace acctc::runtime {

// What a line is compared by (empty: the line itself).
using LineKey = std::function<std::string(const std::string&)>;

// Empty when the texts are equal; otherwise "--- old\n+++ new\n@@ ... @@\n" hunks with
// `context` unchanged lines around each change. With `key`, lines are equal when their keys
// are, and an unchanged line is shown as the new text has it.
std::string unified_diff(const std::string& old_text, const std::string& new_text,
                         const std::string& old_label, const std::string& new_label,
                         int context = 3, const LineKey& key = {});

// The key `acctc diff` compares ruleset lines by: the line without the origin the compiler
// attached (nft `comment "file:line"`, iptables `-m comment --comment ...`), which names the
// file as it was typed and moves with every line added above: shown, not compared.
std::string without_origin(const std::string& line);

} // namespace acctc::runtime
