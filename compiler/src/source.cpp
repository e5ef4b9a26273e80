#include "acctc/source.hpp"

#include <algorithm>
#include <charconv>

namespace acctc {

namespace {

// Origins end up inside quoted comments of nft and iptables rules: keep only characters that
// can never close the quote, and keep the tail of long paths (nft comments hold 128 bytes).
std::string origin_name(const std::string& name) {
    if (name == stdin_name) {
        return std::string(stdin_origin_name);
    }
    std::string safe;
    for (char c : name) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '_' || c == '-' ||
                           c == '+' || c == '@' || c == ',' || c == '=';
        safe.push_back(plain ? c : '_');
    }
    constexpr std::size_t max_name = 96;
    if (safe.size() > max_name) {
        safe = "..." + safe.substr(safe.size() - max_name);
    }
    return safe;
}

} // namespace

SourceFile::SourceFile(std::string display_name, std::string text)
    : name_(std::move(display_name)), text_(std::move(text)) {
    origin_name_ = origin_name(name_);
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
        if (text_[i] == '\n') {
            line_starts_.push_back(i + 1);
        }
    }
}

LineColumn SourceFile::position(std::size_t offset) const {
    offset = std::min(offset, text_.size());
    auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const auto line = static_cast<std::size_t>(next - line_starts_.begin());
    return {line, offset - line_starts_[line - 1] + 1};
}

std::string_view SourceFile::line_text(std::size_t line) const {
    if (line == 0 || line > line_starts_.size()) {
        return {};
    }
    const std::size_t begin = line_starts_[line - 1];
    std::size_t end = line < line_starts_.size() ? line_starts_[line] - 1 : text_.size();
    if (end > begin && text_[end - 1] == '\r') {
        --end;
    }
    return std::string_view(text_).substr(begin, end - begin);
}

std::string SourceFile::printable_name() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : name_) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            out += {'\\', 'x', digits[c >> 4], digits[c & 15]};
        }
    }
    return out;
}

std::string SourceFile::origin(std::size_t offset) const {
    // Built in place: one per class of a 100,000-class policy.
    char digits[24];
    char* end = std::to_chars(digits, digits + sizeof digits, position(offset).line).ptr;
    std::string out;
    out.reserve(origin_name_.size() + 1 + static_cast<std::size_t>(end - digits));
    out += origin_name_;
    out += ':';
    out.append(digits, end);
    return out;
}

} // namespace acctc
