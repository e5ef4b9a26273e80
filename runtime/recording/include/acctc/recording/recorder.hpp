// Stores one reading of a policy's counters: one RRD per counter, created on first sight.
#pragma once

#include "acctc/recording/rrd_layout.hpp"
#include "acctc/runtime/counter_sample.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace acctc::recording {

struct RecordedCounter {
    enum class Outcome { created, updated, skipped, failed };
    std::string policy;
    std::string counter;
    std::filesystem::path file;
    Outcome outcome = Outcome::failed;
    std::string detail; // why it was skipped or failed
};

struct RecordOptions {
    RrdLayout layout;                                // used only for RRDs that do not exist yet
    std::chrono::milliseconds lock_patience{30'000}; // wait for other acctc writers this long
};

// Writes every sample at `now` into DIR/<policy>/<counter>.rrd with data sources
// <stem>_bytes and <stem>_pkts. A sample at or before the file's last update is skipped
// (librrd refuses it anyway); one failing file does not stop the others. Temporary files that a
// killed run left while creating an RRD (<counter>.rrdXXXXXX) are removed first.
std::vector<RecordedCounter> record_samples(const std::filesystem::path& dir,
                                            const std::vector<runtime::CounterSample>& samples,
                                            const RecordOptions& options, std::time_t now);

} // namespace acctc::recording
