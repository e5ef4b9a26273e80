// Small line-level helpers shared by the text processing of nft input and output.
#pragma once

#include <string>
#include <vector>

namespace acctc::runtime {

std::vector<std::string> split_lines(const std::string& text);

// '{' count minus '}' count: how much deeper in nft's block structure a line leaves us.
int brace_balance(const std::string& line);

} // namespace acctc::runtime
