// Graph selection, the rrd_graph definitions, and real PNGs checked down to their chunks.
#include "acctc/recording/graph.hpp"
#include "acctc/recording/graph_selection.hpp"
#include "acctc/recording/recorder.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "support/png_header.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <set>

namespace acctc::recording {
namespace {

TEST(GraphSelection, SelectorsAreCountersOrGroupPrefixes) {
    const std::vector<std::string> recorded = {"skype_ping", "skype_tcp_in", "skype_tcp_out",
                                               "skypeish", "web_in"};
    EXPECT_EQ(select_counters(recorded, {}), recorded);
    EXPECT_EQ(select_counters(recorded, {"skype_tcp"}),
              (std::vector<std::string>{"skype_tcp_in", "skype_tcp_out"}));
    EXPECT_EQ(select_counters(recorded, {"skype"}),
              (std::vector<std::string>{"skype_ping", "skype_tcp_in", "skype_tcp_out"}));
    EXPECT_EQ(select_counters(recorded, {"web_in", "skype_ping", "web_in"}),
              (std::vector<std::string>{"skype_ping", "web_in"}));
    try {
        select_counters(recorded, {"skyp"});
        FAIL() << "a partial word must not match";
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("skype_tcp_in"), std::string::npos);
    }
}

TEST(GraphSelection, ACounterSelectsItsHostSeries) {
    const std::vector<std::string> recorded = {"lan_in", "lan_in@198.18.0.1", "lan_in@other",
                                               "lan_in_overflow", "lan_out@198.18.0.1"};
    EXPECT_EQ(select_counters(recorded, {"lan_in"}),
              (std::vector<std::string>{"lan_in", "lan_in@198.18.0.1", "lan_in@other",
                                        "lan_in_overflow"}));
    EXPECT_EQ(select_counters(recorded, {"lan_in@198.18.0.1"}),
              (std::vector<std::string>{"lan_in@198.18.0.1"}));
}

TEST(GraphSelection, TopHostsByVolumeOtherAndPlainCountersStay) {
    GraphRequest request;
    auto host = [](const std::string& address, double volume) {
        GraphSeries series;
        series.identity = {"lan",
                           CounterKind::counter,
                           {{Dimension::direction, "in"}, {Dimension::host, address}},
                           ""};
        series.volume = volume;
        return series;
    };
    request.counters = {"lan_in@198.18.0.1", "lan_in@198.18.0.2",  "lan_in@198.18.0.3",
                        "lan_in@other",      "lan_out@198.18.0.1", "plain"};
    request.series = {host("198.18.0.1", 10), host("198.18.0.2", 30), host("198.18.0.3", 20),
                      host("other", 1),       host("198.18.0.1", 5),  GraphSeries{}};
    keep_top_hosts(request, 2);
    EXPECT_EQ(request.counters,
              (std::vector<std::string>{"lan_in@198.18.0.2", "lan_in@198.18.0.3", "lan_in@other",
                                        "lan_out@198.18.0.1", "plain"}));
    ASSERT_EQ(request.series.size(), request.counters.size());
    EXPECT_EQ(request.series[0].volume, 30);
}

std::vector<std::string>::const_iterator find_prefix(const std::vector<std::string>& args,
                                                     const std::string& prefix) {
    return std::find_if(args.begin(), args.end(),
                        [&](const std::string& arg) { return arg.rfind(prefix, 0) == 0; });
}

GraphSeries labelled(const std::string& family, std::vector<Label> labels, bool data = true) {
    return {{family, CounterKind::counter, std::move(labels), ""}, data};
}

TEST(GraphArguments, InIsMirroredAndPairsShareAColour) {
    GraphRequest request;
    request.rrd_dir = "/data:x"; // colons in paths must be escaped for rrdtool
    request.policy = "home";
    request.counters = {"skype_tcp_in", "skype_tcp_out", "web"};
    request.series = {
        labelled("skype", {{Dimension::direction, "in"}, {Dimension::protocol, "tcp"}}),
        labelled("skype", {{Dimension::direction, "out"}, {Dimension::protocol, "tcp"}}),
        labelled("web", {})};
    const auto args = graph_arguments(request);
    EXPECT_NE(
        find_prefix(args, "DEF:v0=/data\\:x/home/skype_tcp_in.rrd:skype_tcp_in_bytes:AVERAGE"),
        args.end());
    EXPECT_NE(find_prefix(args, "CDEF:plot0=v0,-1,*"), args.end()); // in: below the axis
    EXPECT_NE(find_prefix(args, "CDEF:plot1=v1,1,*"), args.end());  // out: above
    EXPECT_NE(find_prefix(args, "CDEF:plot2=v2,1,*"), args.end());  // both directions: above
    const auto line0 = *find_prefix(args, "LINE1.5:plot0#");
    const auto line1 = *find_prefix(args, "LINE1.5:plot1#");
    const auto line2 = *find_prefix(args, "LINE1.5:plot2#");
    EXPECT_EQ(line0.substr(15, 6), line1.substr(15, 6));
    EXPECT_NE(line0.substr(15, 6), line2.substr(15, 6));
    EXPECT_NE(find_prefix(args, "GPRINT:total2:total %6.1lf %sB\\l"), args.end());
    EXPECT_NE(std::find(args.begin(), args.end(), "--full-size-mode"), args.end());

    request.metric = GraphMetric::packets;
    const auto packets = graph_arguments(request);
    EXPECT_NE(find_prefix(packets, "DEF:v0=/data\\:x/home/skype_tcp_in.rrd:skype_tcp_in_pkts:"),
              packets.end());
}

// The side comes from the direction dimension, never from the letters of the name.
TEST(GraphArguments, SideComesFromTheDirectionLabelNotTheName) {
    GraphRequest request;
    request.policy = "home";
    request.counters = {"down_h1", "login_out", "upload_in", "inbound", "old_tcp_in"};
    request.series = {labelled("down", {{Dimension::direction, "in"}, {Dimension::class_, "h1"}}),
                      labelled("login_out", {}),
                      labelled("upload", {{Dimension::direction, "out"}}), labelled("inbound", {}),
                      labelled("old_tcp_in", {})}; // recorded before labels: no guessing
    const auto args = graph_arguments(request);
    EXPECT_NE(find_prefix(args, "CDEF:plot0=v0,-1,*"), args.end()); // down_h1: in, below
    EXPECT_NE(find_prefix(args, "CDEF:plot1=v1,1,*"), args.end());
    EXPECT_NE(find_prefix(args, "CDEF:plot2=v2,1,*"), args.end()); // upload_in: out, above
    EXPECT_NE(find_prefix(args, "CDEF:plot3=v3,1,*"), args.end());
    EXPECT_NE(find_prefix(args, "CDEF:plot4=v4,1,*"), args.end());
}

TEST(GraphArguments, SixteenSeriesAreDistinguishableAndNoDataSaysSo) {
    GraphRequest request;
    request.policy = "home";
    for (int i = 0; i < 20; ++i) {
        request.counters.push_back("c" + std::to_string(i));
        request.series.push_back(labelled("c" + std::to_string(i), {}, i != 3));
    }
    const auto args = graph_arguments(request);
    std::set<std::string> styles;
    for (int i = 0; i < 20; ++i) {
        const auto line = *find_prefix(args, "LINE1.5:plot" + std::to_string(i) + "#");
        const auto hash = line.find('#');
        const bool dashed = line.ends_with(":dashes");
        styles.insert(line.substr(hash, 7) + (dashed ? " dashed" : ""));
        if (i < 16) {
            EXPECT_FALSE(dashed) << line;
        }
    }
    EXPECT_EQ(styles.size(), 20U);
    // Counter 3 has no known value in the range: its legend says so, with no nan figures.
    const auto line3 = find_prefix(args, "LINE1.5:plot3#");
    ASSERT_NE(line3, args.end());
    EXPECT_EQ(*(line3 + 1), "COMMENT:no data\\l");
    EXPECT_EQ(find_prefix(args, "VDEF:avg3="), args.end());
    EXPECT_NE(find_prefix(args, "VDEF:avg4="), args.end());
}

TEST(GraphArguments, RejectsEmptyAndAbsurdRequests) {
    GraphRequest request;
    request.policy = "home";
    EXPECT_THROW(graph_arguments(request), std::invalid_argument);
    request.counters = {"c"};
    request.width = 10;
    EXPECT_THROW(graph_arguments(request), std::invalid_argument);
    request.width = 800;
    request.height = 100000;
    EXPECT_THROW(graph_arguments(request), std::invalid_argument);
}

class GraphRender : public ::testing::Test {
  protected:
    void SetUp() override {
        RecordOptions options;
        options.layout.step = std::chrono::seconds(60);
        options.layout.heartbeat = std::chrono::seconds(120);
        options.layout.archives = {"RRA:AVERAGE:0.5:1:1440"};
        std::uint64_t in = 0;
        std::uint64_t out = 0;
        for (int minute = 0; minute <= 120; ++minute) {
            in += 60'000 + static_cast<std::uint64_t>(minute) * 500;
            out += 20'000;
            record_samples(
                dir.path(),
                {{"home", "skype_tcp_in", in / 100, in}, {"home", "skype_tcp_out", out / 100, out}},
                options, start + minute * 60);
        }
        request.rrd_dir = dir.path();
        request.policy = "home";
        request.counters = recorded_counters(dir.path(), "home");
        request.start = std::to_string(start);
        request.end = std::to_string(start + 120 * 60);
    }
    static constexpr std::time_t start = 1'700'000'040;
    testing::TempDir dir;
    GraphRequest request;
};

TEST_F(GraphRender, IsAValidPngOfTheRequestedSize) {
    ASSERT_EQ(request.counters, (std::vector<std::string>{"skype_tcp_in", "skype_tcp_out"}));
    for (const auto& [width, height] : {std::pair{800U, 300U}, std::pair{1024U, 480U}}) {
        request.width = width;
        request.height = height;
        const auto png = render_graph(request);
        const auto header = testing::read_png_header(png);
        EXPECT_EQ(header.width, width);
        EXPECT_EQ(header.height, height);
    }
    request.metric = GraphMetric::packets;
    auto png = render_graph(request);
    EXPECT_EQ(testing::read_png_header(png).width, 1024U);
    png[40] ^= 0x01U; // inside the first data chunk: its CRC no longer matches
    EXPECT_THROW(testing::read_png_header(png), std::runtime_error);
}

TEST_F(GraphRender, LibrrdErrorsComeBackAsExceptions) {
    request.start = "not a time";
    EXPECT_THROW(render_graph(request), RrdError);
    request.start = "-1d";
    request.counters = {"missing_counter"};
    EXPECT_THROW(render_graph(request), RrdError);
}

// record keeps each counter's labels beside its RRD; the graph places series by them and says
// "no data" for a counter without values in the range. The default archives follow the step:
// with a 5-second step the last minutes graph at once.
TEST(GraphSeries, LabelsFromRecordingAndDataWithAShortStep) {
    testing::TempDir dir;
    RecordOptions options;
    options.layout.step = std::chrono::seconds(5);
    options.layout.heartbeat = std::chrono::seconds(10);
    options.layout.archives = RrdLayout::default_archives(options.layout.step);
    constexpr std::time_t t0 = 1'700'000'000;
    std::uint64_t total = 0;
    for (int i = 0; i <= 30; ++i) {
        total += 5000;
        record_samples(
            dir.path(),
            {{"home", "down_h1", total / 100, total,
              runtime::CounterDescription::of(
                  {"down", {}, {{Dimension::direction, "in"}, {Dimension::class_, "h1"}}, ""})},
             {"home", "login_out", 0, 0,
              runtime::CounterDescription::of({"login_out", {}, {}, ""})}},
            options, t0 + i * 5);
    }
    GraphRequest request;
    request.rrd_dir = dir.path();
    request.policy = "home";
    request.counters = recorded_counters(dir.path(), "home");
    ASSERT_EQ(request.counters, (std::vector<std::string>{"down_h1", "login_out"}));
    request.start = std::to_string(t0 + 10);
    request.end = std::to_string(t0 + 150);
    describe_series(request);
    ASSERT_EQ(request.series.size(), 2U);
    EXPECT_EQ(request.series[0].identity.family, "down");
    EXPECT_EQ(request.series[0].identity.labels,
              (std::vector<Label>{{Dimension::direction, "in"}, {Dimension::class_, "h1"}}));
    EXPECT_TRUE(request.series[0].has_data);
    EXPECT_TRUE(request.series[1].identity.labels.empty());
    const auto args = graph_arguments(request);
    EXPECT_NE(find_prefix(args, "CDEF:plot0=v0,-1,*"), args.end()); // in, below
    EXPECT_NE(find_prefix(args, "CDEF:plot1=v1,1,*"), args.end());
    EXPECT_EQ(testing::read_png_header(render_graph(request)).width, request.width);

    // A start after the end is an error naming both (it crashed inside librrd's fetch).
    request.start = "now";
    request.end = "-1d";
    EXPECT_THROW(
        {
            try {
                describe_series(request);
            } catch (const RrdError& error) {
                EXPECT_STREQ(error.what(), "the graph's start (now) is not before its end (-1d)");
                throw;
            }
        },
        RrdError);

    // A range before the first reading holds nothing.
    request.start = std::to_string(t0 - 3600);
    request.end = std::to_string(t0 - 1800);
    describe_series(request);
    EXPECT_FALSE(request.series[0].has_data);
    EXPECT_NE(std::find(graph_arguments(request).begin(), graph_arguments(request).end(),
                        "COMMENT:no data\\l"),
              graph_arguments(request).end());

    // The old fixed archives (5-minute rows) leave the same short range empty.
    testing::TempDir old_dir;
    options.layout.archives = {"RRA:AVERAGE:0.5:5m:1w"};
    total = 0;
    for (int i = 0; i <= 30; ++i) {
        total += 5000;
        record_samples(old_dir.path(), {{"home", "down_h1", total / 100, total}}, options,
                       t0 + i * 5);
    }
    request.rrd_dir = old_dir.path();
    request.counters = {"down_h1"};
    request.start = std::to_string(t0 + 10);
    request.end = std::to_string(t0 + 150);
    describe_series(request);
    EXPECT_FALSE(request.series[0].has_data);
    EXPECT_TRUE(request.series[0].identity.labels.empty());
}

TEST(RrdLayout, DefaultArchivesFollowTheStep) {
    EXPECT_EQ(RrdLayout::default_archives(std::chrono::seconds(300)),
              (std::vector<std::string>{"RRA:AVERAGE:0.5:1:2016", "RRA:AVERAGE:0.5:12:8760",
                                        "RRA:MAX:0.5:12:8760", "RRA:AVERAGE:0.5:288:1825"}));
    const auto short_step = RrdLayout::default_archives(std::chrono::seconds(5));
    ASSERT_EQ(short_step.size(), 5U);
    EXPECT_EQ(short_step[0], "RRA:AVERAGE:0.5:1:17280");
    EXPECT_EQ(short_step[1], "RRA:AVERAGE:0.5:60:2016");
}

TEST(PngHeader, RejectsDamagedFiles) {
    const std::vector<unsigned char> not_png = {'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0, 0, 0};
    EXPECT_THROW(testing::read_png_header(not_png), std::runtime_error);
}

} // namespace
} // namespace acctc::recording
