#include "acctc/bench/text_table.hpp"

#include <algorithm>
#include <ostream>
#include <stdexcept>

namespace acctc::bench {

namespace {

constexpr const char* separator = " | ";

std::string line_of(const std::vector<TextColumn>& columns, const std::vector<std::size_t>& widths,
                    const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const std::string& cell = i < cells.size() ? cells[i] : std::string();
        const std::string padding(widths[i] - cell.size(), ' ');
        if (i > 0) {
            line += separator;
        }
        line += columns[i].align == Align::left ? cell + padding : padding + cell;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    return line;
}

} // namespace

TextTable::TextTable(std::vector<TextColumn> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
    if (cells.size() > columns_.size()) {
        throw std::logic_error("text table row with more cells than columns");
    }
    rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out) const {
    std::vector<std::size_t> widths;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        std::size_t width = columns_[i].header.size();
        for (const auto& row : rows_) {
            width = std::max(width, i < row.size() ? row[i].size() : 0);
        }
        widths.push_back(width);
    }
    std::vector<std::string> header;
    std::vector<std::string> rule;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        header.push_back(columns_[i].header);
        rule.emplace_back(widths[i], '-');
    }
    out << line_of(columns_, widths, header) << "\n" << line_of(columns_, widths, rule) << "\n";
    for (const auto& row : rows_) {
        out << line_of(columns_, widths, row) << "\n";
    }
}

} // namespace acctc::bench
