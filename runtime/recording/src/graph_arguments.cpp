#include "acctc/recording/graph.hpp"
#include "acctc/recording/rrd_names.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>

namespace acctc::recording {
namespace {

// Okabe-Ito colours (distinguishable with the common colour-vision deficiencies) first, then
// Paul Tol's muted and dark sets; past them colours repeat with dashed lines.
constexpr std::array<const char*, 18> palette = {
    "0072B2", "D55E00", "009E73", "CC79A7", "E69F00", "56B4E9", "000000", "332288", "117733",
    "882255", "999933", "AA4499", "44AA99", "661100", "6699CC", "888888", "DDCC77", "EE6677"};

// The side a series is drawn on comes from its direction dimension, never from its name.
bool drawn_below(const CounterIdentity& identity) {
    for (const auto& label : identity.labels) {
        if (label.dimension == Dimension::direction) {
            return label.value == "in";
        }
    }
    return false;
}

// In and out of one family and otherwise equal labels share a colour.
std::string pair_key(const CounterIdentity& identity) {
    std::string key = identity.family;
    for (const auto& label : identity.labels) {
        if (label.dimension != Dimension::direction) {
            key += '\n' + std::string(dimension_name(label.dimension)) + '=' + label.value;
        }
    }
    return key;
}

// rrdtool splits definitions at ':'; literal colons (paths, labels) need a backslash.
std::string escape_colons(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == ':' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

// GPRINT formats use '%'; a label must not be taken for one.
std::string escape_percent(const std::string& text) {
    std::string out;
    for (const char c : text) {
        out += c;
        if (c == '%') {
            out += '%';
        }
    }
    return out;
}

} // namespace

std::vector<std::string> graph_arguments(const GraphRequest& request) {
    if (request.counters.empty()) {
        throw std::invalid_argument("no counters to graph");
    }
    if (request.width < min_graph_width || request.height < min_graph_height ||
        request.width > max_graph_side || request.height > max_graph_side) {
        throw std::invalid_argument(
            "graph size " + std::to_string(request.width) + "x" + std::to_string(request.height) +
            " is outside " + std::to_string(min_graph_width) + "x" +
            std::to_string(min_graph_height) + " .. " + std::to_string(max_graph_side) + "x" +
            std::to_string(max_graph_side));
    }
    const bool bytes = request.metric == GraphMetric::bytes;
    const std::string rate_unit = bytes ? "B/s" : "pkt/s";
    const std::string total_unit = bytes ? "B" : "pkt";
    const std::string title = request.title.empty()
                                  ? request.policy + (bytes ? ": bytes" : ": packets") +
                                        " per second (out above, in below the axis)"
                                  : request.title;
    std::vector<std::string> args = {
        "--imgformat", "PNG", "--full-size-mode", "--width", std::to_string(request.width),
        "--height", std::to_string(request.height), "--start", request.start, "--end", request.end,
        "--title", title, "--vertical-label",
        (bytes ? "bytes/s" : "packets/s") + std::string("   in < 0 < out"), "--base", "1000",
        "--slope-mode", "--watermark", "acctc",
        // A fixed-width legend keeps the avg/max/total columns aligned.
        "--font", "LEGEND:8:DejaVu Sans Mono", "--font", "TITLE:10:DejaVu Sans", "--font",
        "AXIS:8:DejaVu Sans", "--font", "UNIT:8:DejaVu Sans"};

    std::size_t label_width = 0;
    for (const auto& counter : request.counters) {
        label_width = std::max(label_width, counter.size());
    }
    std::map<std::string, std::size_t> colour_of_pair;
    for (std::size_t i = 0; i < request.counters.size(); ++i) {
        const auto& counter = request.counters[i];
        const auto id = std::to_string(i);
        const GraphSeries series = i < request.series.size()
                                       ? request.series[i]
                                       : GraphSeries{decode_counter_comment(counter, ""), true};
        const auto colour_index =
            colour_of_pair.emplace(pair_key(series.identity), colour_of_pair.size()).first->second;
        const std::string colour = palette.at(colour_index % palette.size());
        const std::string dashes = colour_index >= palette.size() ? ":dashes" : "";
        const auto file = rrd_path(request.rrd_dir, request.policy, counter);
        const auto ds = bytes ? bytes_ds_name(counter) : packets_ds_name(counter);
        const bool below = drawn_below(series.identity);
        std::string label = escape_percent(escape_colons(counter));
        label += std::string(label_width - counter.size() + 1, ' ');

        args.push_back("DEF:v" + id + "=" + escape_colons(file.string()) + ":" + ds + ":AVERAGE");
        args.push_back("CDEF:plot" + id + "=v" + id + (below ? ",-1,*" : ",1,*"));
        // Translucent fill so overlapping counters stay visible, a solid line on top.
        args.push_back("AREA:plot" + id + "#" + colour + "30");
        args.push_back("LINE1.5:plot" + id + "#" + colour + ":" + label + dashes);
        if (!series.has_data) {
            args.push_back("COMMENT:no data\\l");
            continue;
        }
        args.push_back("VDEF:avg" + id + "=v" + id + ",AVERAGE");
        args.push_back("VDEF:max" + id + "=v" + id + ",MAXIMUM");
        args.push_back("VDEF:total" + id + "=v" + id + ",TOTAL");
        args.push_back("GPRINT:avg" + id + ":avg %6.1lf %s" + rate_unit);
        args.push_back("GPRINT:max" + id + ":max %6.1lf %s" + rate_unit);
        args.push_back("GPRINT:total" + id + ":total %6.1lf %s" + total_unit + "\\l");
    }
    args.push_back("HRULE:0#404040");
    return args;
}

} // namespace acctc::recording
