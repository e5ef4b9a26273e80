#include "parser.hpp"

#include "acctc/did_you_mean.hpp"
#include "parse_actions.hpp"
#include "parse_errors.hpp"

#include <array>
#include <cctype>
#include <string_view>

namespace acctc {
namespace grammar {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

ast::Item port_item_from(std::string_view text) {
    ast::Item value;
    const auto dots = text.find("..");
    if (dots == std::string_view::npos) {
        value.kind = (text.front() >= '0' && text.front() <= '9') ? ast::Item::Kind::number
                                                                  : ast::Item::Kind::word;
        value.text = std::string(text);
    } else {
        value.kind = ast::Item::Kind::range;
        value.text = std::string(text.substr(0, dots));
        value.upper = std::string(text.substr(dots + 2));
    }
    return value;
}

} // namespace grammar

namespace {

namespace pegtl = tao::pegtl;

bool starts_with_word(std::string_view line, std::string_view word) {
    return line.substr(0, word.size()) == word &&
           (line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t' ||
            line[word.size()] == '\r' || line[word.size()] == '{' || line[word.size()] == '#');
}

// Splits the file into top-level statements before parsing, so one broken statement cannot
// hide the errors of the next. A statement starts on a line that begins with a declaration
// keyword (at any brace depth, to resynchronise after an unclosed brace) or with accept/drop
// outside braces.
std::vector<std::size_t> statement_starts(std::string_view text) {
    static constexpr std::array<std::string_view, 7> declarations = {
        "policy", "interface", "network", "connmark", "counter", "classify", "quota"};
    std::vector<std::size_t> starts{0};
    int depth = 0;
    std::size_t line_begin = 0;
    while (line_begin < text.size()) {
        auto line_end = text.find('\n', line_begin);
        if (line_end == std::string_view::npos) {
            line_end = text.size();
        }
        const std::string_view line = text.substr(line_begin, line_end - line_begin);
        const auto indent = line.find_first_not_of(" \t");
        if (indent != std::string_view::npos && line_begin != 0) {
            const std::string_view rest = line.substr(indent);
            bool starts_statement = false;
            for (auto keyword : declarations) {
                starts_statement = starts_statement || starts_with_word(rest, keyword);
            }
            if (depth <= 0 &&
                (starts_with_word(rest, "accept") || starts_with_word(rest, "drop"))) {
                starts_statement = true;
            }
            if (starts_statement) {
                // At the keyword, not the line: the statement before ends there, so its
                // syntax error points at the keyword rather than at the indentation.
                starts.push_back(line_begin + indent);
                depth = 0;
            }
        }
        for (char c : line) {
            if (c == '#') {
                break;
            }
            depth += c == '{' ? 1 : (c == '}' ? -1 : 0);
        }
        line_begin = line_end + 1;
    }
    return starts;
}

// The width of the token at offset, for the caret under a syntax error.
std::size_t token_width(std::string_view text, std::size_t offset) {
    if (offset >= text.size()) {
        return 0;
    }
    std::size_t end = offset;
    auto is_word = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
    };
    while (end < text.size() && is_word(text[end])) {
        ++end;
    }
    return std::max<std::size_t>(end - offset, 1);
}

std::string describe_found(std::string_view text, std::size_t offset) {
    if (offset >= text.size()) {
        return "end of file";
    }
    const char c = text[offset];
    if (c == '\n') {
        return "end of line";
    }
    const auto c_byte = static_cast<unsigned char>(c);
    if (c_byte < 0x20 || c_byte >= 0x7f) {
        static constexpr char hex[] = "0123456789abcdef";
        return std::string("byte 0x") + hex[c_byte >> 4] + hex[c_byte & 15];
    }
    std::string_view token =
        text.substr(offset, std::min<std::size_t>(token_width(text, offset), 40));
    return "'" + std::string(token) + (token_width(text, offset) > 40 ? "...'" : "'");
}

// "; did you mean 'counter'?" when the word the parser stopped at is one typo from a keyword.
std::string keyword_hint(std::string_view text, std::size_t offset) {
    if (offset >= text.size() || !std::isalpha(static_cast<unsigned char>(text[offset]))) {
        return "";
    }
    const auto suggestion =
        did_you_mean(text.substr(offset, token_width(text, offset)), grammar::keyword_texts());
    return suggestion ? "; did you mean '" + *suggestion + "'?" : "";
}

} // namespace

ast::Policy parse_policy(const SourceFile& file, Diagnostics& diagnostics) {
    const std::string_view text = file.text();
    TreeBuilder builder;
    builder.base = text.data();
    std::vector<std::size_t> starts = statement_starts(text);
    // A UTF-8 byte order mark, as some editors save it, is not part of the first statement.
    if (text.starts_with("\xEF\xBB\xBF") && !starts.empty() && starts.front() == 0) {
        starts.front() = 3;
    }
    for (std::size_t i = 0; i < starts.size() && !diagnostics.too_many(); ++i) {
        const std::size_t begin = starts[i];
        const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : text.size();
        pegtl::memory_input<pegtl::tracking_mode::lazy, pegtl::eol::lf> input(
            text.data() + begin, text.data() + end, file.name());
        try {
            pegtl::parse<grammar::statement, grammar::action,
                         pegtl::must_if<grammar::errors>::control>(input, builder);
        } catch (const pegtl::parse_error& error) {
            const std::size_t offset = begin + error.positions().front().byte;
            std::string message(error.message());
            diagnostics.error({offset, offset + token_width(text, offset)},
                              "syntax error: expected " + message + ", found " +
                                  describe_found(text, offset) + keyword_hint(text, offset));
            // Drop what the broken statement left half-built.
            builder.items.clear();
            builder.protocols.clear();
            builder.clauses.clear();
            builder.header.clear();
            builder.branches.clear();
            builder.qualifier = {};
            builder.quota = {};
        }
    }
    return std::move(builder.policy);
}

} // namespace acctc
