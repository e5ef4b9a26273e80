#include "acctc/diagnostics.hpp"

#include "acctc/printable_text.hpp"

#include <algorithm>
#include <ostream>

namespace acctc {
namespace {

const char* severity_name(Severity severity) {
    switch (severity) {
    case Severity::note:
        return "note";
    case Severity::warning:
        return "warning";
    case Severity::error:
        return "error";
    }
    return "error";
}

// Long lines (a 100 MB single-line file) are cut to a window around the culprit.
constexpr std::size_t max_shown = 160;

// The source line as printable_text prints it (UTF-8 as is, tabs kept, control characters and
// bytes that are not UTF-8 escaped), the carets under the printed culprit, and its columns in
// code points (docs/language.md, "Diagnostics"). first and last are byte offsets in the line.
struct ShownLine {
    std::string text;
    std::string caret;
    std::size_t first_column = 0;
    std::size_t last_column = 0;
};

ShownLine show_line(std::string_view line, std::size_t first, std::size_t last) {
    ShownLine out;
    const std::size_t window = first > max_shown / 2 ? first - max_shown / 2 : 0;
    std::size_t column = 0;
    for (std::size_t at = 0; at < line.size() && (at <= last || at < window + max_shown);) {
        const std::size_t length = std::max<std::size_t>(1, utf8_sequence_length(line, at));
        ++column;
        if (at <= first) {
            out.first_column = at + length > first ? column : column + 1;
        }
        if (at <= last) {
            out.last_column = column;
        }
        if (at >= window && at < window + max_shown) {
            const std::string printed = printable_text(line.substr(at, length), Tabs::keep);
            out.text += printed;
            if (at + length <= first) {
                out.caret += printed == "\t" ? printed : std::string(text_columns(printed), ' ');
            } else if (at <= last) {
                out.caret.append(text_columns(printed), '^');
            }
        }
        at += length;
    }
    if (line.empty()) {
        out.first_column = 1;
    }
    out.last_column = std::max(out.last_column, out.first_column);
    if (out.caret.find('^') == std::string::npos) {
        out.caret += '^'; // the end of the line
    }
    return out;
}

void render_location(std::ostream& out, const SourceFile& file, SourceRange range,
                     Severity severity, const std::string& message) {
    const LineColumn from = file.position(range.begin);
    const std::string_view line = file.line_text(from.line);
    std::size_t first = from.column - 1;
    std::size_t last = range.end > range.begin ? file.position(range.end - 1).column - 1 : first;
    if (file.position(range.end > range.begin ? range.end - 1 : range.begin).line != from.line) {
        last = line.empty() ? first : std::max(first, line.size() - 1);
    }
    const ShownLine shown = show_line(line, first, last);
    out << file.printable_name() << ":" << from.line << ":" << shown.first_column << "-"
        << shown.last_column << ": " << severity_name(severity) << ": " << printable_text(message)
        << "\n"
        << shown.text << "\n"
        << shown.caret << "\n";
}

} // namespace

Diagnostic& Diagnostics::error(SourceRange range, std::string message) {
    ++error_count_;
    items_.push_back({Severity::error, range, std::move(message), {}});
    return items_.back();
}

Diagnostic& Diagnostics::warning(SourceRange range, std::string message) {
    items_.push_back({Severity::warning, range, std::move(message), {}});
    return items_.back();
}

void Diagnostics::append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
    error_count_ += other.error_count_;
}

std::vector<Diagnostic> Diagnostics::sorted() const {
    std::vector<Diagnostic> out = items_;
    std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return a.range.begin < b.range.begin;
    });
    return out;
}

void render(std::ostream& out, const SourceFile& file, const Diagnostic& diagnostic) {
    render_location(out, file, diagnostic.range, diagnostic.severity, diagnostic.message);
    for (const auto& note : diagnostic.notes) {
        render_location(out, file, note.range, Severity::note, note.message);
    }
}

void render_all(std::ostream& out, const SourceFile& file, const Diagnostics& diagnostics) {
    // The first max_errors errors in source order (and the warnings among them): passes that
    // run on after the limit must not flood the terminal.
    std::size_t errors = 0;
    for (const auto& diagnostic : diagnostics.sorted()) {
        if (errors == Diagnostics::max_errors) {
            break;
        }
        errors += diagnostic.severity == Severity::error ? 1 : 0;
        render(out, file, diagnostic);
    }
    if (diagnostics.too_many()) {
        out << file.printable_name() << ": too many errors, stopping after "
            << Diagnostics::max_errors << "\n";
    }
}

} // namespace acctc
