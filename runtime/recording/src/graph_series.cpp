// describe_series: what a graph needs to know about each counter besides its name.
#include "acctc/recording/graph.hpp"
#include "acctc/recording/recorded_labels.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"

#include <cmath>
#include <rrd.h>

namespace acctc::recording {
namespace {

// The graph's AT-style start and end ("-1d", "now", seconds) as librrd resolves them.
std::pair<std::time_t, std::time_t> time_range(const std::string& start, const std::string& end) {
    rrd_time_value_t start_value;
    rrd_time_value_t end_value;
    const char* error = rrd_parsetime(start.c_str(), &start_value);
    if (error == nullptr) {
        error = rrd_parsetime(end.c_str(), &end_value);
    }
    if (error != nullptr) {
        throw RrdError(std::string("cannot read the graph's time range: ") + error);
    }
    std::time_t from = 0;
    std::time_t to = 0;
    if (rrd_proc_start_end(&start_value, &end_value, &from, &to) != 0) {
        std::string detail = rrd_test_error() != 0 ? rrd_get_error() : "invalid range";
        rrd_clear_error();
        throw RrdError("cannot read the graph's time range: " + detail);
    }
    return {from, to};
}

bool has_known_value(const FetchedSeries& fetched, const std::string& ds) {
    for (std::size_t d = 0; d < fetched.ds_names.size(); ++d) {
        if (fetched.ds_names[d] != ds) {
            continue;
        }
        for (std::size_t row = 0; row < fetched.rows(); ++row) {
            if (!std::isnan(fetched.at(row, d))) {
                return true;
            }
        }
    }
    return false;
}

} // namespace

void describe_series(GraphRequest& request) {
    const auto [from, to] = time_range(request.start, request.end);
    request.series.clear();
    for (const auto& counter : request.counters) {
        GraphSeries series;
        series.identity = recorded_identity(request.rrd_dir, request.policy, counter);
        const auto file = rrd_path(request.rrd_dir, request.policy, counter);
        const auto ds = request.metric == GraphMetric::bytes ? bytes_ds_name(counter)
                                                             : packets_ds_name(counter);
        series.has_data = has_known_value(fetch_rrd(file, "AVERAGE", from, to, 1), ds);
        request.series.push_back(std::move(series));
    }
}

} // namespace acctc::recording
