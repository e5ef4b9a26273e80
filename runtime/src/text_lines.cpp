#include "text_lines.hpp"

#include <algorithm>

namespace acctc::runtime {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    for_each_line(text, [&](const std::string& line) { lines.push_back(line); });
    return lines;
}

int brace_balance(const std::string& line) {
    // Two counts, which the compiler vectorises: the lines of a classify map are megabytes.
    return static_cast<int>(std::count(line.begin(), line.end(), '{') -
                            std::count(line.begin(), line.end(), '}'));
}

bool opens_with(const std::string& line, std::string_view word) {
    const std::size_t first = line.find_first_not_of(" \t");
    return first != std::string::npos && std::string_view(line).substr(first).starts_with(word);
}

} // namespace acctc::runtime
