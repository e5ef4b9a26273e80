#include "kernel_refusal.hpp"

#include "acctc/diagnostics.hpp"

#include <charconv>
#include <optional>
#include <sstream>

namespace acctc::cli {
namespace {

// The statement on line `number` of `source` (its first to last non-blank byte), when the
// file has that line and `origin` ("file:line", as rule comments carry it) names it.
std::optional<SourceRange> statement_at(const SourceFile& source, std::string_view origin,
                                        std::size_t number) {
    const std::string_view line = number == 0 ? std::string_view() : source.line_text(number);
    if (line.data() == nullptr) { // no such line
        return std::nullopt;
    }
    const std::size_t start = static_cast<std::size_t>(line.data() - source.text().data());
    if (source.origin(start) != origin) {
        return std::nullopt;
    }
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return SourceRange{start, start};
    }
    return SourceRange{start + first, start + line.find_last_not_of(" \t\r") + 1};
}

} // namespace

std::string positioned_refusal(const std::string& message, const SourceFile& source) {
    static constexpr std::string_view marker = ": error: ";
    std::ostringstream out;
    std::istringstream lines(message);
    for (std::string line; std::getline(lines, line);) {
        // "file:line: error: ...": the origin ends at the last ':' before the marker.
        const std::size_t at = line.find(marker);
        const std::size_t colon = at == std::string::npos ? at : line.rfind(':', at - 1);
        std::size_t number = 0;
        std::optional<SourceRange> range;
        if (colon != std::string::npos &&
            std::from_chars(line.data() + colon + 1, line.data() + at, number).ptr ==
                line.data() + at) {
            range = statement_at(source, std::string_view(line).substr(0, at), number);
        }
        if (!range) {
            out << line << "\n";
            continue;
        }
        Diagnostics diagnostics;
        diagnostics.error(*range, line.substr(at + marker.size()));
        render_all(out, source, diagnostics);
    }
    return out.str();
}

} // namespace acctc::cli
