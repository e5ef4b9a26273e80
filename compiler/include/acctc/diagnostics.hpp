// Diagnostics collected by every compiler stage and rendered nftables-style:
//   file:line:col-col: error: message
//   <source line>
//   <caret line>
#pragma once

#include "acctc/source.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace acctc {

enum class Severity { note, warning, error };

struct Diagnostic {
    Severity severity = Severity::error;
    SourceRange range;
    std::string message;
    // Secondary locations ("defined here", "first used here").
    struct Note {
        SourceRange range;
        std::string message;
    };
    std::vector<Note> notes;
};

class Diagnostics {
  public:
    // Past this many errors the rest of a file is not worth reading.
    static constexpr std::size_t max_errors = 100;

    Diagnostic& error(SourceRange range, std::string message);
    Diagnostic& warning(SourceRange range, std::string message);

    bool has_errors() const { return error_count_ > 0; }
    std::size_t error_count() const { return error_count_; }
    bool too_many() const { return error_count_ >= max_errors; }
    const std::vector<Diagnostic>& all() const { return items_; }
    // Adds another pass's diagnostics after these (a pass run before it whose output goes after).
    void append(const Diagnostics& other);
    // Sorted by position so output order never depends on pass order.
    std::vector<Diagnostic> sorted() const;

  private:
    std::vector<Diagnostic> items_;
    std::size_t error_count_ = 0;
};

void render(std::ostream& out, const SourceFile& file, const Diagnostic& diagnostic);
void render_all(std::ostream& out, const SourceFile& file, const Diagnostics& diagnostics);

} // namespace acctc
