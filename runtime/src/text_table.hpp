// Aligned text columns for the tables acctc prints (counters, quotas).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

using Row = std::vector<std::string>;

// Left-aligns text columns and right-aligns the numeric ones; two spaces between columns. Cells
// are printed as printable_rows makes them, and aligned by text_columns (code points).
std::string render_table(const std::vector<Row>& rows, const std::vector<bool>& numeric);

// The rows with every cell as acctc::printable_text makes it (a newline as \n, ESC as \x1b, a
// byte that is not UTF-8 as \xNN), so that a label from a hand-made object comment cannot break
// a row into two lines or act on the terminal; empty when no cell needs it (the usual case).
std::optional<std::vector<Row>> printable_rows(const std::vector<Row>& rows);

} // namespace acctc::runtime
