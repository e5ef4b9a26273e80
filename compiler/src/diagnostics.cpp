#include "acctc/diagnostics.hpp"

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

// Source lines may hold any bytes (binary files, invalid UTF-8, tabs). Print control bytes and
// non-ASCII as '?' so the terminal stays sane and the caret line stays aligned byte for byte.
std::string printable(std::string_view line) {
    std::string out;
    out.reserve(line.size());
    for (unsigned char c : line) {
        out.push_back(c == '\t' ? '\t' : (c < 0x20 || c >= 0x7f ? '?' : static_cast<char>(c)));
    }
    return out;
}

// Long lines (a 100 MB single-line file) are cut to a window around the culprit.
constexpr std::size_t max_shown = 160;

void render_location(std::ostream& out, const SourceFile& file, SourceRange range,
                     Severity severity, const std::string& message) {
    const LineColumn from = file.position(range.begin);
    const std::string_view line = file.line_text(from.line);
    std::size_t first = from.column - 1;
    std::size_t last = range.end > range.begin ? file.position(range.end - 1).column - 1 : first;
    if (file.position(range.end > range.begin ? range.end - 1 : range.begin).line != from.line) {
        last = line.empty() ? first : std::max(first, line.size() - 1);
    }
    out << file.printable_name() << ":" << from.line << ":" << from.column << "-" << last + 1
        << ": " << severity_name(severity) << ": " << printable(message) << "\n";

    std::size_t window = 0;
    if (first > max_shown / 2) {
        window = first - max_shown / 2;
    }
    const std::string_view shown = line.substr(std::min(window, line.size()), max_shown);
    out << printable(shown) << "\n";
    std::string caret;
    for (std::size_t i = window; i < first && i - window < shown.size(); ++i) {
        caret.push_back(line[i] == '\t' ? '\t' : ' ');
    }
    const std::size_t width =
        std::min(last - first + 1, max_shown - std::min(max_shown, first - window));
    caret.append(std::max<std::size_t>(width, 1), '^');
    out << caret << "\n";
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
