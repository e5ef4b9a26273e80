// The shape of a new RRD: base step, heartbeat and round-robin archives.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace acctc::recording {

struct RrdLayout {
    std::chrono::seconds step{300};      // one primary data point per 5 minutes
    std::chrono::seconds heartbeat{600}; // one missed run is interpolated, two are unknown
    // rrdtool RRA definitions; durations like 5m/1h/1w/1y are resolved by librrd.
    std::vector<std::string> archives = default_archives(step);

    // Every step for a day when the step is below 5 minutes (so `--step 5` graphs the last
    // minutes at once), 5 minutes for a week, 1 hour for a year (average and peak), 1 day for
    // five years; each resolution in whole steps (at least one).
    static std::vector<std::string> default_archives(std::chrono::seconds step);
};

// Throws std::invalid_argument naming the first problem (librrd checks the rest on create).
void validate(const RrdLayout& layout);

} // namespace acctc::recording
