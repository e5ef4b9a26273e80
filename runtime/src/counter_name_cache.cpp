#include "counter_name_cache.hpp"

#include "run_files.hpp"

#include <set>
#include <sstream>

namespace acctc::runtime {
namespace {

constexpr std::string_view format_line = "acctc counter names 1";
// nf_tables object and table names are at most 255 bytes (NFT_OBJ_MAXNAMELEN with its NUL).
constexpr std::size_t max_name_length = 255;

bool valid_name(const std::string& name) {
    return !name.empty() && name.size() <= max_name_length && name.find('\0') == std::string::npos;
}

std::optional<RememberedCounters> parse(const std::string& text) {
    std::istringstream file(text);
    std::string line;
    if (!std::getline(file, line) || line != format_line) {
        return std::nullopt;
    }
    RememberedCounters remembered;
    if (!std::getline(file, line)) {
        return std::nullopt;
    }
    std::istringstream shape(line);
    std::string handle_word;
    std::string members_word;
    shape >> handle_word >> remembered.shape.handle >> members_word >> remembered.shape.members;
    if (!shape || handle_word != "handle" || members_word != "members") {
        return std::nullopt;
    }
    std::set<std::string> seen;
    while (std::getline(file, line)) {
        if (!valid_name(line) || !seen.insert(line).second) {
            return std::nullopt;
        }
        remembered.names.push_back(line);
    }
    if (!text.empty() && text.back() != '\n') { // cut short
        return std::nullopt;
    }
    return remembered;
}

} // namespace

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
    std::set<std::string> seen;
    std::ostringstream text;
    text << format_line << "\n"
         << "handle " << counters.shape.handle << " members " << counters.shape.members << "\n";
    for (const auto& name : counters.names) {
        if (!valid_name(name) || name.find('\n') != std::string::npos ||
            !seen.insert(name).second) {
            return;
        }
        text << name << "\n";
    }
    if (text.str().size() > max_file_bytes) {
        forget(table);
        return;
    }
    write_run_file(directory_, table, text.str());
}

void CounterNameCache::forget(const std::string& table) const {
    remove_run_file(directory_, table);
}

} // namespace acctc::runtime
