#include "text_table.hpp"

#include "acctc/printable_text.hpp"

#include <algorithm>

namespace acctc::runtime {

std::optional<std::vector<Row>> printable_rows(const std::vector<Row>& rows) {
    const auto plain = [](const std::string& cell) {
        return std::all_of(cell.begin(), cell.end(), [](char c) {
            const auto byte = static_cast<unsigned char>(c);
            return byte >= 0x20 && byte < 0x7f;
        });
    };
    const bool all_plain = std::all_of(rows.begin(), rows.end(), [&](const Row& row) {
        return std::all_of(row.begin(), row.end(), plain);
    });
    if (all_plain) {
        return std::nullopt;
    }
    std::vector<Row> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
        Row& printable = out.emplace_back();
        printable.reserve(row.size());
        for (const auto& cell : row) {
            printable.push_back(plain(cell) ? cell : printable_text(cell));
        }
    }
    return out;
}

} // namespace acctc::runtime
