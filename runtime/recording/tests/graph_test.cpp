// Graph selection, the rrd_graph definitions, and real PNGs checked down to their chunks.
#include "acctc/recording/graph.hpp"
#include "acctc/recording/graph_selection.hpp"
#include "acctc/recording/recorder.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "support/png_header.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <gtest/gtest.h>

namespace acctc::recording {
namespace {

TEST(GraphSelection, DirectionIsAWholeWord) {
    EXPECT_EQ(direction_of("skype_tcp_in"), Direction::in);
    EXPECT_EQ(direction_of("skype_udp_out"), Direction::out);
    EXPECT_EQ(direction_of("dept_in_web"), Direction::in);
    EXPECT_EQ(direction_of("dept_a_link"), Direction::both);
    EXPECT_EQ(direction_of("inbound"), Direction::both);
    EXPECT_EQ(direction_of("login_out"), Direction::out);
    EXPECT_EQ(pair_name("skype_tcp_in"), "skype_tcp");
    EXPECT_EQ(pair_name("skype_tcp_out"), "skype_tcp");
    EXPECT_EQ(pair_name("dept_in_web"), "dept_web");
    EXPECT_EQ(pair_name("a_to_b"), "a_to_b");
}

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

std::vector<std::string>::const_iterator find_prefix(const std::vector<std::string>& args,
                                                     const std::string& prefix) {
    return std::find_if(args.begin(), args.end(),
                        [&](const std::string& arg) { return arg.rfind(prefix, 0) == 0; });
}

TEST(GraphArguments, InIsMirroredAndPairsShareAColour) {
    GraphRequest request;
    request.rrd_dir = "/data:x"; // colons in paths must be escaped for rrdtool
    request.policy = "home";
    request.counters = {"skype_tcp_in", "skype_tcp_out", "web"};
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

TEST(PngHeader, RejectsDamagedFiles) {
    const std::vector<unsigned char> not_png = {'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0, 0, 0};
    EXPECT_THROW(testing::read_png_header(not_png), std::runtime_error);
}

} // namespace
} // namespace acctc::recording
