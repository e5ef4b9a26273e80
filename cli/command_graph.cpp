// acctc graph: a PNG of recorded rates per counter or group, in mirrored below the axis.
#include "acctc/recording/graph.hpp"
#include "acctc/recording/graph_selection.hpp"
#include "acctc/recording/output_file.hpp"
#include "command.hpp"
#include "common.hpp"

#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

int run_graph(const std::vector<std::string>& args) {
    recording::GraphRequest request;
    std::string rrd_dir = "/var/lib/acctc/rrd";
    std::string output;
    std::string metric = "bytes";
    std::vector<std::string> selection;
    std::size_t top = 0;
    po::options_description options("options");
    options.add_options()("rrd-dir,d", po::value(&rrd_dir)->default_value(rrd_dir),
                          "directory written by acctc record")(
        "output,o", po::value(&output)->required(), "PNG file to write, or - for standard output")(
        "start,s", po::value(&request.start)->default_value(request.start),
        "start of the range, rrdtool time: -1d, -1w, end-6h, 1700000000")(
        "end,e", po::value(&request.end)->default_value(request.end),
        "end of the range")("width,W", po::value(&request.width)->default_value(request.width),
                            "image width in pixels (the whole image)")(
        "height,H", po::value(&request.height)->default_value(request.height),
        "image height in pixels")("metric,m", po::value(&metric)->default_value(metric),
                                  "bytes or packets (per second)")(
        "title", po::value(&request.title), "title (default: policy and metric)")(
        "top", po::value(&top),
        "split host counters: draw the N hosts with the most volume in the range per counter "
        "(and COUNTER@other); default: every recorded host")(
        "policy", po::value(&request.policy)->required(), "policy name")(
        "select", po::value(&selection), "counters or groups (name prefixes) to draw");
    po::positional_options_description positional;
    positional.add("policy", 1).add("select", -1);
    po::variables_map map;
    if (!parse_command_line(args,
                            "acctc graph -o FILE [--rrd-dir DIR] [--start -1d] [--end now] "
                            "[--width 800] [--height 300] [--metric bytes|packets] [--top N] "
                            "POLICY [COUNTER|GROUP...]",
                            options, positional, map)) {
        return exit_ok;
    }
    if (metric == "bytes") {
        request.metric = recording::GraphMetric::bytes;
    } else if (metric == "packets") {
        request.metric = recording::GraphMetric::packets;
    } else {
        throw UsageError("--metric must be bytes or packets, not '" + metric + "'");
    }
    request.rrd_dir = rrd_dir;
    if (map.count("top") != 0U) {
        request.top_hosts = top;
    }
    try {
        request.counters = recording::select_counters(
            recording::recorded_counters(rrd_dir, request.policy), selection);
        recording::graph_arguments(request); // size and selection problems are usage errors
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    // A corrupt or truncated RRD is left out and named; the others are still drawn, and the
    // exit status says something was missing.
    auto readable = recording::readable_counters(rrd_dir, request.policy, request.counters);
    for (const auto& problem : readable.problems) {
        std::cerr << "acctc graph: left out " << problem << "\n";
    }
    if (readable.readable.empty()) {
        std::cerr << "acctc graph: no readable recordings to draw\n";
        return exit_policy_error;
    }
    request.counters = std::move(readable.readable);
    const int status = readable.problems.empty() ? exit_ok : exit_policy_error;
    recording::describe_series(request); // sides from the direction labels, "no data"
    const auto png = recording::render_graph(request);
    if (output == "-") {
        std::cout.write(reinterpret_cast<const char*>(png.data()),
                        static_cast<std::streamsize>(png.size()));
        return std::cout.flush() ? status : exit_policy_error;
    }
    recording::write_output_file(output, png);
    return status;
}

const CommandRegistration registration{
    {"graph", "draw recorded counters as a PNG (bytes/s or packets/s)", &run_graph}};

} // namespace
} // namespace acctc::cli
