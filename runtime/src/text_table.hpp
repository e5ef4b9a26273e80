// Aligned text columns for the tables acctc prints (counters, quotas).
#pragma once

#include <string>
#include <vector>

namespace acctc::runtime {

using Row = std::vector<std::string>;

// Left-aligns text columns and right-aligns the numeric ones; two spaces between columns.
std::string render_table(const std::vector<Row>& rows, const std::vector<bool>& numeric);

} // namespace acctc::runtime
