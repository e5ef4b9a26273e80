// "did you mean ...?" for mistyped words: policy keywords, subcommands, options.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc {

// The one candidate closest to `word` by edit distance (insert, delete, replace, swap two
// neighbours), if it is close enough to be a typo: 1 edit for words under 5 characters, else 2.
// Nothing when `word` is itself a candidate or two candidates are equally close.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

} // namespace acctc
