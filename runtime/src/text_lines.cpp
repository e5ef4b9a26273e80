#include "text_lines.hpp"

#include <sstream>

namespace acctc::runtime {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

int brace_balance(const std::string& line) {
    int balance = 0;
    for (char c : line) {
        balance += c == '{' ? 1 : c == '}' ? -1 : 0;
    }
    return balance;
}

bool opens_with(const std::string& line, std::string_view word) {
    const std::size_t first = line.find_first_not_of(" \t");
    return first != std::string::npos && std::string_view(line).substr(first).starts_with(word);
}

} // namespace acctc::runtime
