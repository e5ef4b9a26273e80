#include "acctc/recording/rrd_file.hpp"

#include <cstdlib>
#include <memory>
#include <rrd.h>

namespace acctc::recording {
namespace {

// librrd keeps its error text in a per-thread context; take it and leave the context clean.
[[noreturn]] void throw_rrd_error(const std::string& action, const std::filesystem::path& file) {
    std::string detail = rrd_test_error() != 0 ? rrd_get_error() : "unknown librrd error";
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
    if (rrd_create_r2(path.c_str(), static_cast<unsigned long>(layout.step.count()), last_update,
                      /*no_overwrite=*/1, nullptr, nullptr, static_cast<int>(argv.size()),
                      argv.data()) != 0) {
        throw_rrd_error("cannot create", file);
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
    if (rrd_update_r(path.c_str(), nullptr, 1, argv) != 0) {
        throw_rrd_error("cannot update", file);
    }
}

std::time_t last_update(const std::filesystem::path& file) {
    rrd_clear_error();
    const std::string path = file.string();
    const std::time_t last = rrd_last_r(path.c_str());
    if (last == -1) {
        throw_rrd_error("cannot read", file);
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
    const int status = rrd_fetch_r(path.c_str(), cf.c_str(), &series.start, &series.end,
                                   &series.step, &names.count, &names.names, &raw);
    const std::unique_ptr<rrd_value_t, FreeDeleter> data(raw);
    if (status != 0) {
        throw_rrd_error("cannot fetch from", file);
    }
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
