// The bench's plain-text tables: every column as wide as its widest cell, cells separated by
// " | ", so that no two values can run together (`6.0k0.029/0.031` did with fixed setw widths
// narrower than the values).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace acctc::bench {

enum class Align { left, right };

struct TextColumn {
    std::string header;
    Align align = Align::right;
};

class TextTable {
  public:
    explicit TextTable(std::vector<TextColumn> columns);
    // A row of at most as many cells as there are columns; missing cells are empty.
    void add_row(std::vector<std::string> cells);
    // Header, a rule of dashes, then the rows; each line without trailing spaces.
    void print(std::ostream& out) const;

  private:
    std::vector<TextColumn> columns_;
    std::vector<std::vector<std::string>> rows_;
};

} // namespace acctc::bench
