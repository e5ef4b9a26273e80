// Small line-level helpers shared by the text processing of nft input and output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

std::vector<std::string> split_lines(const std::string& text);

// '{' count minus '}' count: how much deeper in nft's block structure a line leaves us.
int brace_balance(const std::string& line);

// Whether the line, after its indentation, starts with `word`: a check before a regular
// expression, which would otherwise walk every line (a classify map's is megabytes long).
bool opens_with(const std::string& line, std::string_view word);

} // namespace acctc::runtime
