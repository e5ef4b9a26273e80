#include "acctc/runtime/unified_diff.hpp"

#include "text_lines.hpp"

#include <algorithm>
#include <vector>

namespace acctc::runtime {
namespace {

enum class Op { equal, remove, insert };

struct Edit {
    Op op;
    std::size_t line; // index into the old text (equal, remove) or the new one (insert)
};

// Beyond this edit distance the middle is shown as one replaced block: still a correct diff,
// and the O(D^2) search memory stays bounded.
constexpr long max_distance = 4000;

// Shortest edit script turning a[lo_a, hi_a) into b[lo_b, hi_b), in order.
std::vector<Edit> shortest_edit(const std::vector<std::string>& a, std::size_t lo_a,
                                std::size_t hi_a, const std::vector<std::string>& b,
                                std::size_t lo_b, std::size_t hi_b) {
    const long n = static_cast<long>(hi_a - lo_a);
    const long m = static_cast<long>(hi_b - lo_b);
    const long limit = std::min(n + m, max_distance);
    const long offset = limit + 1;
    std::vector<long> v(static_cast<std::size_t>(2 * offset + 1), 0);
    std::vector<std::vector<long>> trace; // v before step d, kept for k in [-d-1, d+1]
    const auto at = [&](std::vector<long>& row, long k) -> long& {
        return row[static_cast<std::size_t>(k + offset)];
    };
    long found = -1;
    for (long d = 0; d <= limit && found < 0; ++d) {
        trace.emplace_back(v.begin() + (offset - d - 1), v.begin() + (offset + d + 2));
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && at(v, k - 1) < at(v, k + 1))) ? at(v, k + 1)
                                                                          : at(v, k - 1) + 1;
            long y = x - k;
            while (x < n && y < m &&
                   a[lo_a + static_cast<std::size_t>(x)] == b[lo_b + static_cast<std::size_t>(y)]) {
                ++x;
                ++y;
            }
            at(v, k) = x;
            if (x >= n && y >= m) {
                found = d;
                break;
            }
        }
    }
    std::vector<Edit> edits;
    if (found < 0) {
        for (std::size_t i = lo_a; i < hi_a; ++i) {
            edits.push_back({Op::remove, i});
        }
        for (std::size_t i = lo_b; i < hi_b; ++i) {
            edits.push_back({Op::insert, i});
        }
        return edits;
    }
    long x = n;
    long y = m;
    for (long d = found; d >= 0; --d) {
        const auto& row = trace[static_cast<std::size_t>(d)];
        const auto get = [&](long k) { return row[static_cast<std::size_t>(k + d + 1)]; };
        const long k = x - y;
        const long previous_k = (k == -d || (k != d && get(k - 1) < get(k + 1))) ? k + 1 : k - 1;
        const long previous_x = get(previous_k);
        const long previous_y = previous_x - previous_k;
        while (x > previous_x && y > previous_y) {
            edits.push_back({Op::equal, lo_a + static_cast<std::size_t>(--x)});
            --y;
        }
        if (d > 0) {
            if (x == previous_x) {
                edits.push_back({Op::insert, lo_b + static_cast<std::size_t>(--y)});
            } else {
                edits.push_back({Op::remove, lo_a + static_cast<std::size_t>(--x)});
            }
        }
    }
    std::reverse(edits.begin(), edits.end());
    return edits;
}

std::string range(std::size_t start, std::size_t count) {
    // diff -u: a one-line range omits its count; an empty one names the line before it.
    if (count == 1) {
        return std::to_string(start + 1);
    }
    return std::to_string(count == 0 ? start : start + 1) + "," + std::to_string(count);
}

} // namespace

std::string unified_diff(const std::string& old_text, const std::string& new_text,
                         const std::string& old_label, const std::string& new_label, int context,
                         const LineKey& key) {
    const auto a_shown = split_lines(old_text);
    const auto b_shown = split_lines(new_text);
    const auto keys = [&](const std::vector<std::string>& lines) {
        if (!key) {
            return lines;
        }
        std::vector<std::string> out;
        out.reserve(lines.size());
        for (const auto& line : lines) {
            out.push_back(key(line));
        }
        return out;
    };
    const auto a = keys(a_shown);
    const auto b = keys(b_shown);
    std::size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) {
        ++prefix;
    }
    std::size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
        ++suffix;
    }
    if (prefix == a.size() && prefix == b.size()) {
        return {};
    }
    std::vector<Edit> edits;
    for (std::size_t i = 0; i < prefix; ++i) {
        edits.push_back({Op::equal, i});
    }
    const auto middle = shortest_edit(a, prefix, a.size() - suffix, b, prefix, b.size() - suffix);
    edits.insert(edits.end(), middle.begin(), middle.end());
    for (std::size_t i = a.size() - suffix; i < a.size(); ++i) {
        edits.push_back({Op::equal, i});
    }

    // Line positions in both texts before each edit.
    std::vector<std::size_t> old_at(edits.size() + 1, 0);
    std::vector<std::size_t> new_at(edits.size() + 1, 0);
    for (std::size_t i = 0; i < edits.size(); ++i) {
        old_at[i + 1] = old_at[i] + (edits[i].op != Op::insert ? 1 : 0);
        new_at[i + 1] = new_at[i] + (edits[i].op != Op::remove ? 1 : 0);
    }
    const auto span = static_cast<std::size_t>(std::max(context, 0));
    std::string out = "--- " + old_label + "\n+++ " + new_label + "\n";
    std::size_t i = 0;
    while (i < edits.size()) {
        if (edits[i].op == Op::equal) {
            ++i;
            continue;
        }
        // A hunk runs from this change to the last one separated by at most 2*context equals.
        std::size_t last = i;
        for (std::size_t j = i + 1; j < edits.size() && j <= last + 2 * span + 1; ++j) {
            if (edits[j].op != Op::equal) {
                last = j;
            }
        }
        const std::size_t begin = i > span ? i - span : 0;
        const std::size_t end = std::min(edits.size(), last + span + 1);
        out += "@@ -" + range(old_at[begin], old_at[end] - old_at[begin]) + " +" +
               range(new_at[begin], new_at[end] - new_at[begin]) + " @@\n";
        for (std::size_t j = begin; j < end; ++j) {
            const Edit& edit = edits[j];
            const char mark = edit.op == Op::equal ? ' ' : edit.op == Op::remove ? '-' : '+';
            const std::string& line = edit.op == Op::remove   ? a_shown[edit.line]
                                      : edit.op == Op::insert ? b_shown[edit.line]
                                                              : b_shown[new_at[j]];
            out += mark + line + "\n";
        }
        i = end;
    }
    return out;
}

} // namespace acctc::runtime
