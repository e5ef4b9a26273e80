// Thin, exception-safe wrappers over librrd's thread-safe C API (rrd_*_r).
#pragma once

#include "acctc/recording/rrd_layout.hpp"

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace acctc::recording {

struct RrdError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Creates an RRD whose data sources are all DERIVE with a minimum of 0: a counter that goes
// backwards (reset, reload, reboot) yields one unknown interval instead of a huge spike, which
// is what COUNTER would record by assuming a 32/64-bit wrap. Fails if the file exists.
void create_rrd(const std::filesystem::path& file, const RrdLayout& layout,
                const std::vector<std::string>& ds_names, std::time_t last_update);

// Stores one sample per data source, in creation order, at `when` (seconds since the epoch).
void update_rrd(const std::filesystem::path& file, std::time_t when,
                const std::vector<std::uint64_t>& values);

std::time_t last_update(const std::filesystem::path& file);

struct FetchedSeries {
    std::time_t start = 0; // time of the first row's end is start + step
    std::time_t end = 0;
    unsigned long step = 0;
    std::vector<std::string> ds_names;
    std::vector<double> values; // row-major: rows x ds_names.size(), NaN where unknown

    std::size_t rows() const { return ds_names.empty() ? 0 : values.size() / ds_names.size(); }
    double at(std::size_t row, std::size_t ds) const {
        return values.at(row * ds_names.size() + ds);
    }
};

// Consolidated values (cf: AVERAGE, MAX, ...) for (start, end] at the best matching resolution.
FetchedSeries fetch_rrd(const std::filesystem::path& file, const std::string& cf, std::time_t start,
                        std::time_t end, unsigned long resolution);

} // namespace acctc::recording
