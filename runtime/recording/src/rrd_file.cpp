#include "acctc/recording/rrd_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <rrd.h>
#include <sys/statvfs.h>

namespace acctc::recording {
namespace {

// Some failures leave librrd without a message (creating on a full disk: the write of the
// temporary file fails and errno is clobbered by the clean-up). Then the file system is asked.
std::string unexplained_failure(const std::filesystem::path& file, int error) {
    constexpr unsigned long long little = 4ULL << 20; // less than that is as good as full
    struct statvfs info {};
    const auto directory = file.has_parent_path() ? file.parent_path() : ".";
    if (::statvfs(directory.c_str(), &info) == 0) {
        const auto free_bytes = static_cast<unsigned long long>(info.f_bavail) * info.f_frsize;
        if (info.f_files > 0 && info.f_favail == 0) {
            return std::string(std::strerror(ENOSPC)) + " (no free inodes in " +
                   directory.string() + ")";
        }
        if (free_bytes < little) {
            return std::string(std::strerror(ENOSPC)) + " (" + std::to_string(free_bytes / 1024) +
                   " KiB free in " + directory.string() + ")";
        }
    }
    return error != 0 ? std::string(std::strerror(error)) + " (librrd gave no reason)"
                      : "unknown librrd error";
}

// librrd keeps its error text in a per-thread context; take it and leave the context clean.
// `error` is errno saved right after the failed call.
[[noreturn]] void throw_rrd_error(const std::string& action, const std::filesystem::path& file,
                                  int error) {
    std::string detail =
        rrd_test_error() != 0 ? std::string(rrd_get_error()) : unexplained_failure(file, error);
    rrd_clear_error();
    throw RrdError(action + " " + file.string() + ": " + detail);
}

struct FreeDeleter {
    void operator()(void* memory) const { std::free(memory); }
};

// rrd_fetch_r returns a malloc'd array of malloc'd names.
struct NameArray {
    char** names = nullptr;
    unsigned long count = 0;
    NameArray() = default;
    NameArray(const NameArray&) = delete;
    NameArray& operator=(const NameArray&) = delete;
    ~NameArray() {
        if (names == nullptr) {
            return;
        }
        for (unsigned long i = 0; i < count; ++i) {
            std::free(names[i]);
        }
        std::free(static_cast<void*>(names));
    }
};

} // namespace

void create_rrd(const std::filesystem::path& file, const RrdLayout& layout,
                const std::vector<std::string>& ds_names, std::time_t last_update) {
    validate(layout);
    std::vector<std::string> definitions;
    for (const auto& name : ds_names) {
        definitions.push_back("DS:" + name + ":DERIVE:" + std::to_string(layout.heartbeat.count()) +
                              ":0:U");
    }
    definitions.insert(definitions.end(), layout.archives.begin(), layout.archives.end());
    std::vector<const char*> argv;
    for (const auto& definition : definitions) {
        argv.push_back(definition.c_str());
    }
    rrd_clear_error();
    const std::string path = file.string();
    errno = 0;
    if (rrd_create_r2(path.c_str(), static_cast<unsigned long>(layout.step.count()), last_update,
                      /*no_overwrite=*/1, nullptr, nullptr, static_cast<int>(argv.size()),
                      argv.data()) != 0) {
        throw_rrd_error("cannot create", file, errno);
    }
}

void update_rrd(const std::filesystem::path& file, std::time_t when,
                const std::vector<std::uint64_t>& values) {
    std::string sample = std::to_string(when);
    for (const auto value : values) {
        sample += ':' + std::to_string(value);
    }
    const char* argv[] = {sample.c_str()};
    rrd_clear_error();
    const std::string path = file.string();
    errno = 0;
    if (rrd_update_r(path.c_str(), nullptr, 1, argv) != 0) {
        throw_rrd_error("cannot update", file, errno);
    }
}

std::time_t last_update(const std::filesystem::path& file) {
    rrd_clear_error();
    const std::string path = file.string();
    errno = 0;
    const std::time_t last = rrd_last_r(path.c_str());
    if (last == -1) {
        throw_rrd_error("cannot read", file, errno);
    }
    return last;
}

FetchedSeries fetch_rrd(const std::filesystem::path& file, const std::string& cf, std::time_t start,
                        std::time_t end, unsigned long resolution) {
    FetchedSeries series;
    series.start = start;
    series.end = end;
    series.step = resolution;
    NameArray names;
    rrd_value_t* raw = nullptr;
    rrd_clear_error();
    const std::string path = file.string();
    errno = 0;
    const int status = rrd_fetch_r(path.c_str(), cf.c_str(), &series.start, &series.end,
                                   &series.step, &names.count, &names.names, &raw);
    if (status != 0) {
        // librrd frees the names and data it allocated before failing (a start after the end:
        // `graph -s now -e -1d`) without clearing the pointers: freeing them again crashed.
        names.names = nullptr;
        names.count = 0;
        throw_rrd_error("cannot fetch from", file, errno);
    }
    const std::unique_ptr<rrd_value_t, FreeDeleter> data(raw);
    for (unsigned long i = 0; i < names.count; ++i) {
        series.ds_names.emplace_back(names.names[i]);
    }
    // Rows cover (start, end] in steps; librrd returns (end - start) / step of them.
    const auto rows = static_cast<std::size_t>((series.end - series.start) /
                                               static_cast<std::time_t>(series.step));
    series.values.assign(data.get(), data.get() + rows * names.count);
    return series;
}

} // namespace acctc::recording
