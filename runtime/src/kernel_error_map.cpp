#include "kernel_error_map.hpp"

#include "text_lines.hpp"

#include <regex>

namespace acctc::runtime {
namespace {

std::string last_comment(const std::string& line) {
    static const std::regex comment(R"re(comment "([^"]*)")re");
    std::string found;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), comment);
         it != std::sregex_iterator(); ++it) {
        found = (*it)[1].str();
    }
    return found;
}

std::string without_comment(const std::string& line) {
    static const std::regex comment(R"re(\s*comment "[^"]*")re");
    std::string text = std::regex_replace(line, comment, "");
    const auto first = text.find_first_not_of(" \t");
    return first == std::string::npos ? std::string() : text.substr(first);
}

// The origin of a line: its own comment, else the first one inside the block it opens or
// belongs to (chain headers and hook lines carry none of their own). Top-level commands
// outside any block (acctc's own flush and delete lines) have none.
std::string origin_of(const std::vector<std::string>& lines, std::size_t index) {
    int enclosing = 0;
    for (std::size_t at = 0; at < index; ++at) {
        enclosing += brace_balance(lines[at]);
    }
    if (enclosing <= 0 && brace_balance(lines[index]) <= 0) {
        return last_comment(lines[index]);
    }
    int depth = 0;
    for (std::size_t at = index; at < lines.size(); ++at) {
        if (std::string origin = last_comment(lines[at]); !origin.empty()) {
            return origin;
        }
        depth += brace_balance(lines[at]);
        if (depth < 0 || (depth == 0 && enclosing <= 0)) {
            break;
        }
    }
    return {};
}

} // namespace

std::vector<KernelDiagnostic> map_kernel_errors(const std::string& errors,
                                                const std::string& transaction) {
    // nft: "<input>:LINE:COL-COL: Error: MESSAGE", or "Error: MESSAGE" without a location.
    static const std::regex located(R"(^.*?:(\d+):[0-9:-]+: Error: (.*)$)");
    static const std::regex bare(R"(^Error: (.*)$)");
    const auto lines = split_lines(transaction);
    std::vector<KernelDiagnostic> diagnostics;
    for (const auto& error : split_lines(errors)) {
        std::smatch match;
        if (std::regex_match(error, match, located)) {
            const std::size_t line = std::stoul(match[1].str());
            KernelDiagnostic diagnostic{{}, match[2].str(), {}};
            if (line >= 1 && line <= lines.size()) {
                diagnostic.origin = origin_of(lines, line - 1);
                diagnostic.statement = without_comment(lines[line - 1]);
            }
            diagnostics.push_back(std::move(diagnostic));
        } else if (std::regex_match(error, match, bare)) {
            diagnostics.push_back({{}, match[1].str(), {}});
        }
    }
    return diagnostics;
}

std::string render_kernel_diagnostics(const std::vector<KernelDiagnostic>& diagnostics,
                                      const std::string& fallback) {
    std::string text;
    for (const auto& diagnostic : diagnostics) {
        text += (diagnostic.origin.empty() ? fallback : diagnostic.origin) +
                ": error: " + diagnostic.message;
        if (is_missing_kernel_support(diagnostic.message)) {
            text += " (the running kernel lacks the nf_tables feature this needs)";
        }
        text += "\n";
        if (!diagnostic.statement.empty()) {
            text += "    " + diagnostic.statement + "\n";
        }
    }
    return text;
}

bool is_missing_kernel_support(const std::string& message) {
    return message.find("Operation not supported") != std::string::npos ||
           message.find("Protocol not supported") != std::string::npos;
}

} // namespace acctc::runtime
