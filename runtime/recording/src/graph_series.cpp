// describe_series: what a graph needs to know about each counter besides its name.
#include "acctc/recording/graph.hpp"
#include "acctc/recording/recorded_labels.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <rrd.h>
#include <string>
#include <tuple>

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
    if (from >= to) {
        throw RrdError("the graph's start (" + start + ") is not before its end (" + end + ")");
    }
    return {from, to};
}

// Whether the data source has a known value in the range, and its volume there (rates times
// the step: bytes or packets).
std::pair<bool, double> known_volume(const FetchedSeries& fetched, const std::string& ds) {
    bool known = false;
    double volume = 0;
    for (std::size_t d = 0; d < fetched.ds_names.size(); ++d) {
        if (fetched.ds_names[d] != ds) {
            continue;
        }
        for (std::size_t row = 0; row < fetched.rows(); ++row) {
            if (!std::isnan(fetched.at(row, d))) {
                known = true;
                volume += fetched.at(row, d) * static_cast<double>(fetched.step);
            }
        }
    }
    return {known, volume};
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
        std::tie(series.has_data, series.volume) =
            known_volume(fetch_rrd(file, "AVERAGE", from, to, 1), ds);
        request.series.push_back(std::move(series));
    }
    if (request.top_hosts) {
        keep_top_hosts(request, *request.top_hosts);
    }
}

void keep_top_hosts(GraphRequest& request, std::size_t top) {
    // The counter a host series belongs to: its name before '@'.
    std::map<std::string, std::vector<std::size_t>> hosts;
    for (std::size_t i = 0; i < request.counters.size() && i < request.series.size(); ++i) {
        std::string host;
        for (const auto& label : request.series[i].identity.labels) {
            if (label.dimension == Dimension::host) {
                host = label.value;
            }
        }
        const auto at = request.counters[i].find('@');
        if (!host.empty() && host != "other" && at != std::string::npos) {
            hosts[request.counters[i].substr(0, at)].push_back(i);
        }
    }
    std::vector<bool> dropped(request.counters.size(), false);
    for (auto& [counter, members] : hosts) {
        std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
            return request.series[a].volume > request.series[b].volume;
        });
        for (std::size_t i = top; i < members.size(); ++i) {
            dropped[members[i]] = true;
        }
    }
    std::vector<std::string> counters;
    std::vector<GraphSeries> series;
    for (std::size_t i = 0; i < request.counters.size(); ++i) {
        if (!dropped[i]) {
            counters.push_back(std::move(request.counters[i]));
            if (i < request.series.size()) {
                series.push_back(std::move(request.series[i]));
            }
        }
    }
    request.counters = std::move(counters);
    request.series = std::move(series);
}

} // namespace acctc::recording
