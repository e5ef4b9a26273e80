// Which recorded counters a graph shows, and which side of the axis each one is drawn on.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::recording {

enum class Direction { in, out, both };

// "in" or "out" as a whole '_'-separated word (skype_tcp_in, dept_in_web); anything else is
// both directions (dept_a_link) and is drawn above the axis like out.
Direction direction_of(std::string_view counter);

// The counter without its direction word (skype_tcp_in -> skype_tcp): in and out of one
// pair share a colour.
std::string pair_name(std::string_view counter);

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
