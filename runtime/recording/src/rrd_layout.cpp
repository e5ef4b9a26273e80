#include "acctc/recording/rrd_layout.hpp"

#include <algorithm>
#include <stdexcept>

namespace acctc::recording {

std::vector<std::string> RrdLayout::default_archives(std::chrono::seconds step) {
    const long long s = std::max<long long>(1, step.count());
    constexpr long long minute = 60, hour = 3600, day = 86400;
    struct Archive {
        const char* cf;
        long long resolution; // seconds per row, rounded to whole steps
        long long span;       // seconds kept
    };
    std::vector<Archive> wanted;
    if (s < 5 * minute) {
        wanted.push_back({"AVERAGE", s, day}); // every step for a day: short steps graph at once
    }
    wanted.insert(wanted.end(), {{"AVERAGE", 5 * minute, 7 * day},
                                 {"AVERAGE", hour, 365 * day},
                                 {"MAX", hour, 365 * day},
                                 {"AVERAGE", day, 5 * 365 * day}});
    std::vector<std::string> out;
    for (const auto& a : wanted) {
        const long long steps = std::max<long long>(1, a.resolution / s);
        const long long rows = std::max<long long>(2, a.span / (steps * s));
        out.push_back("RRA:" + std::string(a.cf) + ":0.5:" + std::to_string(steps) + ":" +
                      std::to_string(rows));
    }
    return out;
}

void validate(const RrdLayout& layout) {
    if (layout.step.count() < 1) {
        throw std::invalid_argument("step must be at least 1 second");
    }
    if (layout.heartbeat < layout.step) {
        // A heartbeat below the step would make every primary data point unknown.
        throw std::invalid_argument("heartbeat (" + std::to_string(layout.heartbeat.count()) +
                                    "s) must not be shorter than the step (" +
                                    std::to_string(layout.step.count()) + "s)");
    }
    if (layout.archives.empty()) {
        throw std::invalid_argument("at least one RRA is needed");
    }
    for (const auto& archive : layout.archives) {
        if (archive.rfind("RRA:", 0) != 0) {
            throw std::invalid_argument("'" + archive +
                                        "' is not an RRA definition (RRA:CF:xff:steps:rows)");
        }
    }
}

} // namespace acctc::recording
