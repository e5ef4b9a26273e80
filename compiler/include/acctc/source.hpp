// A policy file held in memory, with positions that map back to line and column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace acctc {

// A half-open byte range [begin, end) into one SourceFile.
struct SourceRange {
    std::size_t begin = 0;
    std::size_t end = 0;
};

struct LineColumn {
    std::size_t line = 1;   // 1-based
    std::size_t column = 1; // 1-based, in bytes
};

// The display name of a policy read from standard input (`acctc compile -`), as errors show it
// (`<stdin>:3:1`); its rules' origins say `stdin:3` (a comment holds no angle brackets).
inline constexpr std::string_view stdin_name = "<stdin>";
inline constexpr std::string_view stdin_origin_name = "stdin";

class SourceFile {
  public:
    SourceFile(std::string display_name, std::string text);

    const std::string& name() const { return name_; }
    // The name with every byte outside printable ASCII, and the backslash, written as \xNN: what
    // may appear in a generated comment line or on a terminal (a newline in a file name would end
    // the comment and start a command of its own).
    std::string printable_name() const;
    const std::string& text() const { return text_; }
    LineColumn position(std::size_t offset) const;
    std::string_view line_text(std::size_t line) const;
    // "file:line" of an offset, as carried in generated rule comments.
    std::string origin(std::size_t offset) const;

  private:
    std::string name_;
    std::string origin_name_; // the name as origin() writes it, made once
    std::string text_;
    std::vector<std::size_t> line_starts_;
};

} // namespace acctc
