#include "acctc/recording/state_store.hpp"

#include "acctc/recording/output_file.hpp"
#include "acctc/recording/unique_fd.hpp"
#include "acctc/runtime/applied_policies.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unistd.h>

namespace acctc::recording {
namespace {

constexpr const char* suffix = ".json";
constexpr std::size_t max_file_bytes = 64 << 20; // far beyond 400 days of 1000 hosts

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error) {
    throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(error));
}

// The rename is durable only once the directory holding the new name is on disk.
void sync_directory(const std::filesystem::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        fail("cannot sync", dir, errno);
    }
}

// "/run/netns/lab" -> "lab"; a path without /run/netns is kept whole, with '/' as '_'.
std::string netns_dir_name(const std::string& netns) {
    std::string name = std::filesystem::path(netns).filename().string();
    std::replace(name.begin(), name.end(), '/', '_');
    return name.empty() || name == "." || name == ".." ? "_" : name;
}

// "p.json.Ab3xYz": the temporary name write_output_file gives a new "p.json" before its rename.
bool is_temporary_name(const std::string& name) {
    constexpr std::size_t random_part = 6;
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || name.size() - dot - 1 != random_part) {
        return false;
    }
    const std::string_view stem(name.data(), dot);
    return stem.ends_with(suffix) && stem.size() > std::strlen(suffix) &&
           std::all_of(name.begin() + static_cast<std::ptrdiff_t>(dot) + 1, name.end(),
                       [](unsigned char c) { return std::isalnum(c) != 0; });
}

// A writer killed between creating its temporary file and renaming it leaves the file behind.
// Only a holder of the directory's lock writes here, so under the lock every one is stale.
void remove_stale_temporaries(const std::filesystem::path& dir) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        if (entry.is_regular_file(error) && is_temporary_name(entry.path().filename().string())) {
            std::filesystem::remove(entry.path(), error);
        }
    }
}

} // namespace

std::filesystem::path state_dir(const std::string& given) {
    if (!given.empty()) {
        return given;
    }
    if (const char* variable = std::getenv(state_dir_variable); variable && *variable) {
        return variable;
    }
    return default_state_dir;
}

StateStore::StateStore(const std::filesystem::path& dir, const std::string& netns)
    : dir_(netns.empty() ? dir / "totals" : dir / "netns" / netns_dir_name(netns)), netns_(netns) {}

DirectoryLock StateStore::lock() const {
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    if (error) {
        fail("cannot create", dir_, error.value());
    }
    return DirectoryLock(dir_, std::chrono::seconds(60));
}

std::filesystem::path StateStore::file_for(const std::string& policy) const {
    return dir_ / (policy + suffix);
}

runtime::PolicyTotals StateStore::load(const std::string& policy) const {
    const auto file = file_for(policy);
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) {
            runtime::PolicyTotals empty;
            empty.policy = policy;
            return empty;
        }
        fail("cannot read", file, errno);
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > max_file_bytes) {
        throw runtime::StateError(file.string() + ": damaged totals: larger than " +
                                  std::to_string(max_file_bytes >> 20) + " MiB");
    }
    try {
        const auto json = nlohmann::json::parse(text.str());
        auto totals = runtime::totals_version(json) == 1
                          ? runtime::totals_from_json(json, version1_backend(policy))
                          : runtime::totals_from_json(json);
        if (totals.policy != policy) {
            throw runtime::StateError("damaged totals: they belong to policy " + totals.policy);
        }
        // Booked as `iptables` before acctc took it as the variant installed: that variant's
        // series, so a reading of it goes on from their baselines.
        if (std::any_of(totals.series.begin(), totals.series.end(), [](const auto& entry) {
                return entry.first.backend == runtime::BackendKind::iptables;
            })) {
            runtime::merge_backend(totals, runtime::BackendKind::iptables,
                                   runtime::resolved_backend(runtime::BackendKind::iptables));
        }
        return totals;
    } catch (const nlohmann::json::exception& error) {
        throw runtime::StateError(file.string() + ": damaged totals: " + error.what() +
                                  "; move it aside to start again from zero");
    } catch (const runtime::StateError& error) {
        throw runtime::StateError(file.string() + ": " + error.what() +
                                  "; move it aside to start again from zero");
    }
}

runtime::BackendKind StateStore::version1_backend(const std::string& policy) const {
    const auto applied = runtime::remembered_backends(netns_, policy);
    return applied.size() == 1 ? applied.front() : runtime::BackendKind::nftables;
}

void StateStore::save(const runtime::PolicyTotals& totals,
                      [[maybe_unused]] const DirectoryLock& held) const {
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    if (error) {
        fail("cannot create", dir_, error.value());
    }
    remove_stale_temporaries(dir_);
    write_output_file(file_for(totals.policy), runtime::to_json(totals).dump() + "\n");
    sync_directory(dir_);
}

std::vector<std::string> StateStore::policies() const {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && name.size() > std::strlen(suffix) &&
            name.ends_with(suffix) && name.front() != '.') {
            names.push_back(name.substr(0, name.size() - std::strlen(suffix)));
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace acctc::recording
