#include "acctc/recording/rrd_layout.hpp"

#include <stdexcept>

namespace acctc::recording {

std::vector<std::string> RrdLayout::default_archives() {
    return {"RRA:AVERAGE:0.5:5m:1w", "RRA:AVERAGE:0.5:1h:1y", "RRA:MAX:0.5:1h:1y",
            "RRA:AVERAGE:0.5:1d:5y"};
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
