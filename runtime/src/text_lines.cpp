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

} // namespace acctc::runtime
