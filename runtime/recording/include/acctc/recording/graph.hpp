// PNG graphs of recorded counters through rrd_graph_v: rates per second, what the direction
// dimension calls "in" mirrored below 0, the rest above.
#pragma once

#include "acctc/counter_labels.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace acctc::recording {

enum class GraphMetric { bytes, packets };

// What a graph knows about one counter beyond its name (see describe_series).
struct GraphSeries {
    CounterIdentity identity; // family and labels: the direction label picks the side
    bool has_data = true;     // false: the legend says "no data" instead of nan
    double volume = 0;        // the metric summed over the range (bytes or packets)
};

struct GraphRequest {
    std::filesystem::path rrd_dir;
    std::string policy;
    std::vector<std::string> counters; // already selected (see graph_selection.hpp)
    GraphMetric metric = GraphMetric::bytes;
    std::string start = "-1d"; // rrdtool AT-style times
    std::string end = "now";
    unsigned width = 800; // of the whole image, not only the plot area
    unsigned height = 300;
    std::string title; // empty: "<policy>: bytes per second"
    // Parallel to counters; a counter without an entry has no labels and is drawn above.
    std::vector<GraphSeries> series;
    // `split host` series (COUNTER@HOST, recorded by `record --top`): draw only this many hosts
    // per counter, those with the most volume in the range, and COUNTER@other; empty: all.
    std::optional<std::size_t> top_hosts;
};

// Fills request.series from the recorded labels (recorded_labels.hpp) and from whether each
// counter's RRD holds a known value of the metric between start and end. Throws RrdError.
// With request.top_hosts it then leaves out the smaller hosts (keep_top_hosts).
void describe_series(GraphRequest& request);

// Of each counter's host series (a host label other than "other"), keeps the `top` with the
// most volume and drops the rest from counters and series; every other series stays.
void keep_top_hosts(GraphRequest& request, std::size_t top);

inline constexpr unsigned min_graph_width = 300;
inline constexpr unsigned min_graph_height = 150;
inline constexpr unsigned max_graph_side = 8000;

// The rrd_graph argument list (without the program name and output file): pure, so the
// layout of legends and definitions can be checked without rendering.
std::vector<std::string> graph_arguments(const GraphRequest& request);

// Renders in memory and returns the PNG bytes. Throws std::invalid_argument for bad sizes or
// no counters, RrdError when librrd fails. rrd_graph is not thread-safe: one call at a time.
std::vector<unsigned char> render_graph(const GraphRequest& request);

} // namespace acctc::recording
