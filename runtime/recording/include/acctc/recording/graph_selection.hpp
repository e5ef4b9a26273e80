// Which recorded counters a graph shows (the side each is drawn on comes from its labels:
// graph.hpp, describe_series).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::recording {

// Counters with an RRD under DIR/<policy>/, sorted by name.
std::vector<std::string> recorded_counters(const std::filesystem::path& dir,
                                           std::string_view policy);

// Keeps counters named by a selector exactly or as a group prefix (selector "skype" keeps
// skype_tcp_in and skype_udp_out). No selectors keeps all. Throws std::invalid_argument for
// a selector that matches nothing, listing what exists.
std::vector<std::string> select_counters(const std::vector<std::string>& recorded,
                                         const std::vector<std::string>& selectors);

// Splits `counters` into those whose RRD under DIR/<policy>/ librrd can read and, for the rest,
// one line each naming the file and why ("'x.rrd' is too small (should be 8584 bytes)"): one
// broken file must not keep the others from being drawn.
struct ReadableCounters {
    std::vector<std::string> readable;
    std::vector<std::string> problems;
};
ReadableCounters readable_counters(const std::filesystem::path& dir, std::string_view policy,
                                   const std::vector<std::string>& counters);

} // namespace acctc::recording
