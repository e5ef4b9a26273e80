#include "acctc/did_you_mean.hpp"

#include <algorithm>
#include <numeric>

namespace acctc {
namespace {

// Optimal string alignment distance: Levenshtein plus transposition of neighbours.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    std::iota(d[0].begin(), d[0].end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

} // namespace

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
    const std::size_t limit = word.size() < 5 ? 1 : 2;
    std::optional<std::string> best;
    std::size_t best_distance = limit + 1;
    bool tie = false;
    for (const auto& candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate);
        if (distance == 0) {
            return std::nullopt;
        }
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
            tie = false;
        } else if (best && distance == best_distance && candidate != *best) {
            tie = true;
        }
    }
    return tie ? std::nullopt : best;
}

} // namespace acctc
