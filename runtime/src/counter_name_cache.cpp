#include "counter_name_cache.hpp"

#include "acctc/runtime/netns.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace acctc::runtime {
namespace {

constexpr std::string_view format_line = "acctc counter names 1";
// nf_tables object and table names are at most 255 bytes (NFT_OBJ_MAXNAMELEN with its NUL).
constexpr std::size_t max_name_length = 255;

bool valid_name(const std::string& name) {
    return !name.empty() && name.size() <= max_name_length && name.find('\0') == std::string::npos;
}

} // namespace

CounterNameCache::CounterNameCache()
    : CounterNameCache("/run/acctc/netns-" + std::to_string(current_netns_id())) {}

CounterNameCache::CounterNameCache(std::string directory) : directory_(std::move(directory)) {}

std::optional<std::string> CounterNameCache::path_of(const std::string& table) const {
    if (!valid_name(table) || table.find('/') != std::string::npos) {
        return std::nullopt;
    }
    return directory_ + "/" + table;
}

std::optional<RememberedCounters> CounterNameCache::load(const std::string& table) const {
    const auto path = path_of(table);
    if (!path) {
        return std::nullopt;
    }
    std::ifstream file(*path);
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
    while (std::getline(file, line)) {
        if (!valid_name(line)) {
            return std::nullopt;
        }
        remembered.names.push_back(line);
    }
    if (!file.eof()) {
        return std::nullopt;
    }
    return remembered;
}

void CounterNameCache::store(const std::string& table, const RememberedCounters& counters) const {
    const auto path = path_of(table);
    if (!path) {
        return;
    }
    for (const auto& name : counters.names) {
        if (!valid_name(name) || name.find('\n') != std::string::npos) {
            return;
        }
    }
    ::mkdir(std::filesystem::path(directory_).parent_path().c_str(), 0755);
    ::mkdir(directory_.c_str(), 0755);
    // Written aside and renamed, so a reader sees the old file or the new one, never half.
    std::ostringstream suffix;
    suffix << ".tmp-" << ::getpid() << "-" << std::this_thread::get_id();
    const std::string temporary = *path + suffix.str();
    {
        std::ofstream file(temporary, std::ios::trunc);
        file << format_line << "\n"
             << "handle " << counters.shape.handle << " members " << counters.shape.members << "\n";
        for (const auto& name : counters.names) {
            file << name << "\n";
        }
        file.flush();
        if (!file) {
            ::unlink(temporary.c_str());
            return;
        }
    }
    if (::rename(temporary.c_str(), path->c_str()) != 0) {
        ::unlink(temporary.c_str());
    }
}

void CounterNameCache::forget(const std::string& table) const {
    if (const auto path = path_of(table)) {
        ::unlink(path->c_str());
    }
}

} // namespace acctc::runtime
