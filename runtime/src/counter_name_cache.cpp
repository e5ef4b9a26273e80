#include "counter_name_cache.hpp"

#include "run_files.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace acctc::runtime {
namespace {

constexpr std::string_view format_line = "acctc counter names 2";
constexpr std::string_view not_verified = "verified no";
// nf_tables object and table names are at most 255 bytes (NFT_OBJ_MAXNAMELEN with its NUL).
constexpr std::size_t max_name_length = 255;

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= max_name_length && name.find('\0') == std::string::npos;
}

// The next line of text from `at` on (without its '\n'); empty when none is left complete.
std::optional<std::string_view> next_line(std::string_view text, std::size_t& at) {
    const std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    return line;
}

// `WORD NUMBER` at the front of `line`, the rest left in it.
template <typename Number>
bool take_field(std::string_view& line, std::string_view word, Number& value) {
    if (!line.starts_with(word) || line.size() <= word.size() || line[word.size()] != ' ') {
        return false;
    }
    line.remove_prefix(word.size() + 1);
    const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), value);
    if (error != std::errc()) {
        return false;
    }
    line.remove_prefix(static_cast<std::size_t>(end - line.data()));
    if (!line.empty()) {
        if (line.front() != ' ') {
            return false;
        }
        line.remove_prefix(1);
    }
    return true;
}

bool parse_shape(std::string_view line, TableShape& shape) {
    return take_field(line, "handle", shape.handle) && take_field(line, "members", shape.members) &&
           line.empty();
}

bool parse_verified(std::string_view line, std::optional<NamesVerified>& verified) {
    if (line == not_verified) {
        verified.reset();
        return true;
    }
    NamesVerified claim;
    if (!take_field(line, "verified", claim.generation) ||
        !take_field(line, "digest", claim.digest) ||
        !take_field(line, "netns", claim.netns_cookie) || !line.empty()) {
        return false;
    }
    verified = claim;
    return true;
}

std::optional<RememberedCounters> parse(std::string_view text) {
    std::size_t at = 0;
    RememberedCounters remembered;
    const auto header = next_line(text, at);
    const auto shape = next_line(text, at);
    const auto verified = next_line(text, at);
    if (!header || *header != format_line || !shape || !parse_shape(*shape, remembered.shape) ||
        !verified || !parse_verified(*verified, remembered.verified)) {
        return std::nullopt;
    }
    // Stored in byte order, so a name twice shows as a neighbour.
    while (const auto line = next_line(text, at)) {
        if (!valid_name(*line) || (!remembered.names.empty() && *line <= remembered.names.back())) {
            return std::nullopt;
        }
        remembered.names.emplace_back(*line);
    }
    if (at != text.size()) { // cut short
        return std::nullopt;
    }
    return remembered;
}

} // namespace

std::uint64_t names_digest(const std::vector<std::string>& names) {
    // The sum of each name's FNV-1a hash: a name lost, added or changed changes it, the order
    // does not (the file keeps names sorted, a dump lists them in the kernel's order).
    std::uint64_t digest = 0;
    for (const auto& name : names) {
        std::uint64_t hash = 0xcbf29ce484222325ULL;
        for (const char c : name) {
            hash ^= static_cast<unsigned char>(c);
            hash *= 0x100000001b3ULL;
        }
        digest += hash;
    }
    return digest;
}

CounterNameCache::CounterNameCache() : CounterNameCache(run_directory()) {}

CounterNameCache::CounterNameCache(std::string directory) : directory_(std::move(directory)) {}

std::optional<RememberedCounters> CounterNameCache::load(const std::string& table) const {
    if (!valid_name(table)) {
        return std::nullopt;
    }
    const auto text = read_run_file(directory_, table, max_file_bytes);
    return text ? parse(*text) : std::nullopt;
}

void CounterNameCache::store(const std::string& table, const RememberedCounters& counters) const {
    if (!valid_name(table)) {
        return;
    }
    // In byte order: a duplicate is a neighbour, and counters read by name come out sorted.
    std::vector<std::string_view> names(counters.names.begin(), counters.names.end());
    std::sort(names.begin(), names.end());
    std::string text;
    text.append(format_line).append("\n");
    text.append("handle ")
        .append(std::to_string(counters.shape.handle))
        .append(" members ")
        .append(std::to_string(counters.shape.members))
        .append("\n");
    if (counters.verified) {
        text.append("verified ")
            .append(std::to_string(counters.verified->generation))
            .append(" digest ")
            .append(std::to_string(counters.verified->digest))
            .append(" netns ")
            .append(std::to_string(counters.verified->netns_cookie))
            .append("\n");
    } else {
        text.append(not_verified).append("\n");
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!valid_name(names[i]) || names[i].find('\n') != std::string::npos ||
            (i > 0 && names[i] == names[i - 1])) {
            return;
        }
        text.append(names[i]).append("\n");
        if (text.size() > max_file_bytes) {
            forget(table);
            return;
        }
    }
    write_run_file(directory_, table, text);
}

void CounterNameCache::forget(const std::string& table) const {
    remove_run_file(directory_, table);
}

} // namespace acctc::runtime
