// Small line-level helpers shared by the text processing of nft input and output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

std::vector<std::string> split_lines(const std::string& text);

// Calls on_line(line) for each line of the text, as split_lines() splits it, in one buffer:
// no allocation per line (a definition of 100,000 classes has as many lines).
template <typename OnLine>
void for_each_line(const std::string& text, OnLine on_line) {
    std::string line;
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        end = end == std::string::npos ? text.size() : end;
        line.assign(text, at, end - at);
        on_line(line);
        at = end + 1;
    }
}

// '{' count minus '}' count: how much deeper in nft's block structure a line leaves us.
int brace_balance(const std::string& line);

// Whether the line, after its indentation, starts with `word`: a check before a regular
// expression, which would otherwise walk every line (a classify map's is megabytes long).
bool opens_with(const std::string& line, std::string_view word);

} // namespace acctc::runtime
