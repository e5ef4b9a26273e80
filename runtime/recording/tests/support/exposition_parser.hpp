// A strict parser for the Prometheus text exposition format 0.0.4, for checking what the
// exporter serves: it accepts what Prometheus' own text parser accepts and rejects the rest
// (plus non-contiguous families and duplicate series, which Prometheus rejects on ingestion).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::recording::testing {

struct ExpositionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ExpositionSample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
    std::optional<std::int64_t> timestamp_ms;
};

struct ExpositionFamily {
    std::string name;
    std::string type = "untyped";
    std::optional<std::string> help;
    std::vector<ExpositionSample> samples;
};

// Throws ExpositionError("line N: what") at the first violation.
std::vector<ExpositionFamily> parse_exposition(std::string_view text);

} // namespace acctc::recording::testing
