// Recording real kernel counters: a namespace of our own, a hand-written nft table, known
// traffic to 198.18.0.1, readings through the runtime, RRDs and graphs checked to the byte.
#include "acctc/recording/graph.hpp"
#include "acctc/recording/graph_selection.hpp"
#include "acctc/recording/recorder.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"
#include "acctc/runtime/counters.hpp"
#include "support/png_header.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_namespace.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <memory>

namespace acctc::recording {
namespace {

using testing::TestNamespace;

constexpr const char* address = "198.18.0.1";
// Both hooks count the same datagrams to port 9: out on the way down, in on the way up.
constexpr const char* probe_ruleset = R"(table inet acctc_rectest {
    counter probe_udp_out {}
    counter probe_udp_in {}
    chain output {
        type filter hook output priority 0; policy accept;
        ip daddr 198.18.0.1 udp dport 9 counter name "probe_udp_out"
    }
    chain input {
        type filter hook input priority 0; policy accept;
        ip daddr 198.18.0.1 udp dport 9 counter name "probe_udp_in"
    }
}
)";
constexpr std::size_t udp_ip_overhead = 28; // IPv4 + UDP headers: nft counts from layer 3

const runtime::CounterSample& find(const std::vector<runtime::CounterSample>& samples,
                                   const std::string& counter) {
    for (const auto& sample : samples) {
        if (sample.counter == counter) {
            return sample;
        }
    }
    throw std::runtime_error("no counter " + counter);
}

class KernelRecording : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!testing::can_use_namespaces()) {
            GTEST_SKIP() << "needs root, ip and nft";
        }
        ns = std::make_unique<TestNamespace>("probe");
        ns->exec({"ip", "address", "add", std::string(address) + "/32", "dev", "lo"});
        ns->load_nft(probe_ruleset);
        sender = ns->socket(SOCK_DGRAM);
    }
    std::vector<runtime::CounterSample> read() const {
        return runtime::read_counters("rectest", ns->name());
    }
    std::unique_ptr<TestNamespace> ns;
    UniqueFd sender;
    testing::TempDir dir;
};

TEST_F(KernelRecording, RrdHoldsTheRateOfKnownTraffic) {
    testing::send_datagrams(sender.get(), address, 9, 37, 100); // history before the first reading
    const auto first = read();
    ASSERT_EQ(find(first, "probe_udp_out").packets, 37U);
    ASSERT_EQ(find(first, "probe_udp_in").bytes, 37U * (udp_ip_overhead + 100));

    RecordOptions options;
    options.layout.step = std::chrono::seconds(10);
    options.layout.heartbeat = std::chrono::seconds(20);
    options.layout.archives = {"RRA:AVERAGE:0.5:1:60"};
    const std::time_t t0 = (std::time(nullptr) / 10) * 10; // on the step grid: one exact PDP
    for (const auto& result : record_samples(dir.path(), first, options, t0)) {
        ASSERT_EQ(result.outcome, RecordedCounter::Outcome::created) << result.detail;
    }

    testing::send_datagrams(sender.get(), address, 9, 250, 172); // 250 packets, 50000 bytes
    const auto second = read();
    ASSERT_EQ(find(second, "probe_udp_out").packets, 287U);
    for (const auto& result : record_samples(dir.path(), second, options, t0 + 10)) {
        ASSERT_EQ(result.outcome, RecordedCounter::Outcome::updated) << result.detail;
    }

    for (const auto* counter : {"probe_udp_out", "probe_udp_in"}) {
        const auto file = rrd_path(dir.path(), "rectest", counter);
        const auto series = fetch_rrd(file, "AVERAGE", t0, t0 + 9, 10);
        ASSERT_GE(series.rows(), 1U);
        ASSERT_EQ(series.start + static_cast<std::time_t>(series.step), t0 + 10);
        EXPECT_DOUBLE_EQ(series.at(0, 0), 5000.0) << counter << " bytes/s";
        EXPECT_DOUBLE_EQ(series.at(0, 1), 25.0) << counter << " packets/s";
    }
}

std::string cli() {
    return ACCTC_CLI_PATH;
}

TEST_F(KernelRecording, CliRecordsEveryCounterAndGraphsThem) {
    const auto rrd_dir = dir.path().string();
    auto run = testing::run_process(
        {cli(), "record", "--netns", ns->name(), "--rrd-dir", rrd_dir, "--step", "1", "rectest"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("recorded 2 counter(s)"), std::string::npos) << run.out;
    const auto file = rrd_path(dir.path(), "rectest", "probe_udp_in");
    const auto first_update = last_update(file);

    testing::send_datagrams(sender.get(), address, 9, 20, 72);
    // The next second, so librrd accepts the reading.
    while (std::time(nullptr) <= first_update) {
        ::usleep(50'000);
    }
    run = testing::run_process(
        {cli(), "record", "--quiet", "--netns", ns->name(), "--rrd-dir", rrd_dir, "rectest"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, "");
    EXPECT_GT(last_update(file), first_update);
    const auto series = fetch_rrd(file, "AVERAGE", first_update - 5, first_update + 5, 1);
    EXPECT_EQ(series.ds_names,
              (std::vector<std::string>{"probe_udp_in_bytes", "probe_udp_in_pkts"}));

    const auto png = (dir.path() / "probe.png").string();
    run = testing::run_process({cli(), "graph", "--rrd-dir", rrd_dir, "-o", png, "--start", "-10m",
                                "--width", "640", "--height", "240", "rectest", "probe"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::ifstream in(png, std::ios::binary);
    const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), {}};
    const auto header = testing::read_png_header(bytes);
    EXPECT_EQ(header.width, 640U);
    EXPECT_EQ(header.height, 240U);

    run =
        testing::run_process({cli(), "graph", "--rrd-dir", rrd_dir, "-o", png, "rectest", "nope"});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("probe_udp_in"), std::string::npos) << run.err;
}

TEST_F(KernelRecording, CliEveryKeepsRecordingUntilSigterm) {
    testing::ChildProcess every({cli(), "record", "--every", "1", "--quiet", "--step", "1",
                                 "--netns", ns->name(), "--rrd-dir", dir.path().string(),
                                 "rectest"});
    const auto file = rrd_path(dir.path(), "rectest", "probe_udp_out");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::time_t first = 0;
    std::time_t latest = 0;
    // Wait for three rounds, each a second later than the one before.
    while (std::chrono::steady_clock::now() < deadline && (first == 0 || latest < first + 2)) {
        if (std::filesystem::exists(file)) {
            latest = last_update(file);
            first = first == 0 ? latest : first;
        }
        ::usleep(100'000);
    }
    EXPECT_GE(latest, first + 2);
    every.signal(SIGTERM);
    const auto result = every.wait(std::chrono::seconds(3));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");
}

TEST_F(KernelRecording, SameSecondSkipsAreOneLineAndNoneWithQuiet) {
    const auto rrd_dir = dir.path().string();
    const std::vector<std::string> record = {cli(),       "record", "--netns", ns->name(),
                                             "--rrd-dir", rrd_dir,  "rectest"};
    auto quiet = record;
    quiet.push_back("-q");
    testing::ProcessResult loud;
    testing::ProcessResult silent;
    // Three runs inside one second (retried if a second boundary falls between them).
    for (int attempt = 0; attempt < 10; ++attempt) {
        const auto second = std::time(nullptr);
        ASSERT_EQ(testing::run_process(record).exit_code, 0);
        loud = testing::run_process(record);
        silent = testing::run_process(quiet);
        if (std::time(nullptr) == second) {
            break;
        }
    }
    EXPECT_EQ(loud.exit_code, 0) << loud.err;
    EXPECT_EQ(std::count(loud.err.begin(), loud.err.end(), '\n'), 1) << loud.err;
    EXPECT_EQ(loud.err.rfind("acctc record: skipped 2 counter(s) (already recorded at ", 0), 0U)
        << loud.err;
    EXPECT_EQ(silent.exit_code, 0) << silent.err;
    EXPECT_EQ(silent.err, "");
    EXPECT_EQ(silent.out, "");
}

TEST_F(KernelRecording, GraphLeavesOutACorruptFileAndDrawsTheRest) {
    const auto rrd_dir = dir.path().string();
    ASSERT_EQ(testing::run_process(
                  {cli(), "record", "--netns", ns->name(), "--rrd-dir", rrd_dir, "rectest"})
                  .exit_code,
              0);
    const auto broken = rrd_path(dir.path(), "rectest", "probe_udp_out");
    std::filesystem::resize_file(broken, 100); // truncated, as by a full disk or a crash
    const auto png = (dir.path() / "rest.png").string();
    const auto run = testing::run_process(
        {cli(), "graph", "--rrd-dir", rrd_dir, "-o", png, "--start", "-10m", "rectest"});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("left out"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(broken.string()), std::string::npos) << run.err;
    EXPECT_EQ(run.err.find("probe_udp_in.rrd"), std::string::npos) << run.err;
    std::ifstream in(png, std::ios::binary);
    const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(testing::read_png_header(bytes).width, 800U); // the other counter was drawn
    // Nothing readable at all: no image, exit 1.
    std::filesystem::resize_file(rrd_path(dir.path(), "rectest", "probe_udp_in"), 100);
    const auto none = testing::run_process(
        {cli(), "graph", "--rrd-dir", rrd_dir, "-o", png + ".none", "rectest"});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_FALSE(std::filesystem::exists(png + ".none"));
}

TEST_F(KernelRecording, CliReportsAPolicyThatIsNotApplied) {
    const auto run = testing::run_process(
        {cli(), "record", "--netns", ns->name(), "--rrd-dir", dir.path().string(), "not_loaded"});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("not_loaded"), std::string::npos) << run.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "not_loaded"));
}

} // namespace
} // namespace acctc::recording
