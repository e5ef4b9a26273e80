// record_samples against real RRD files with controlled timestamps: rates, resets, skips.
#include "acctc/recording/directory_lock.hpp"
#include "acctc/recording/recorded_labels.hpp"
#include "acctc/recording/recorder.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"
#include "support/temp_dir.hpp"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acctc::recording {
namespace {

using runtime::CounterSample;
using Outcome = RecordedCounter::Outcome;

constexpr std::time_t t0 = 1'700'000'000; // a multiple of 10, so PDPs align with readings

RecordOptions ten_second_layout() {
    RecordOptions options;
    options.layout.step = std::chrono::seconds(10);
    options.layout.heartbeat = std::chrono::seconds(20);
    options.layout.archives = {"RRA:AVERAGE:0.5:1:100", "RRA:MAX:0.5:1:100"};
    return options;
}

// The AVERAGE row for (end - 10, end].
std::pair<double, double> rates_ending_at(const std::filesystem::path& file, std::time_t end) {
    const auto series = fetch_rrd(file, "AVERAGE", end - 10, end - 1, 10);
    EXPECT_EQ(series.step, 10U);
    for (std::size_t row = 0; row < series.rows(); ++row) {
        if (series.start + static_cast<std::time_t>((row + 1) * series.step) == end) {
            return {series.at(row, 0), series.at(row, 1)};
        }
    }
    ADD_FAILURE() << "no row ends at " << end;
    return {NAN, NAN};
}

class RecorderTest : public ::testing::Test {
  protected:
    std::vector<RecordedCounter> record(std::uint64_t bytes, std::uint64_t packets,
                                        std::time_t when) {
        return record_samples(dir.path(), {CounterSample{"home", "skype_tcp_in", packets, bytes}},
                              options, when);
    }
    testing::TempDir dir;
    RecordOptions options = ten_second_layout();
};

TEST_F(RecorderTest, StoresTheRateBetweenTwoReadings) {
    auto first = record(1000, 10, t0);
    ASSERT_EQ(first.size(), 1U);
    EXPECT_EQ(first[0].outcome, Outcome::created) << first[0].detail;
    EXPECT_EQ(first[0].file, dir.path() / "home" / "skype_tcp_in.rrd");
    auto second = record(1000 + 5000, 10 + 50, t0 + 10);
    EXPECT_EQ(second.at(0).outcome, Outcome::updated) << second.at(0).detail;

    const auto series = fetch_rrd(first[0].file, "AVERAGE", t0, t0 + 9, 10);
    EXPECT_EQ(series.ds_names,
              (std::vector<std::string>{"skype_tcp_in_bytes", "skype_tcp_in_pkts"}));
    const auto [bytes_per_second, packets_per_second] = rates_ending_at(first[0].file, t0 + 10);
    EXPECT_DOUBLE_EQ(bytes_per_second, 500.0);
    EXPECT_DOUBLE_EQ(packets_per_second, 5.0);
    EXPECT_EQ(last_update(first[0].file), t0 + 10);
}

// librrd refuses a start after the end and frees what it had allocated itself: an error, not
// a double free (`acctc graph -s now -e -1d` crashed with SIGSEGV).
TEST_F(RecorderTest, AFetchEndingBeforeItStartsIsAnError) {
    record(1000, 10, t0);
    record(2000, 20, t0 + 10);
    const auto file = rrd_path(dir.path(), "home", "skype_tcp_in");
    EXPECT_THROW(fetch_rrd(file, "AVERAGE", t0 + 10, t0 - 86400, 10), RrdError);
    EXPECT_THROW(fetch_rrd(file, "NOSUCHCF", t0 - 10, t0 + 10, 10), RrdError);
}

TEST_F(RecorderTest, ACounterResetLeavesAGapNotASpike) {
    record(1'000'000, 1000, t0);
    record(1'001'000, 1010, t0 + 10);
    record(100, 1, t0 + 20); // the policy was reloaded without keeping values, or zeroed
    record(2100, 21, t0 + 30);
    const auto file = rrd_path(dir.path(), "home", "skype_tcp_in");
    EXPECT_DOUBLE_EQ(rates_ending_at(file, t0 + 10).first, 100.0);
    // COUNTER would read the drop as a 64-bit wrap and store about 1.8e18 bytes/s here.
    EXPECT_TRUE(std::isnan(rates_ending_at(file, t0 + 20).first));
    EXPECT_DOUBLE_EQ(rates_ending_at(file, t0 + 30).first, 200.0);
}

TEST_F(RecorderTest, AReadingAtOrBeforeTheLastUpdateIsSkipped) {
    record(0, 0, t0);
    record(10, 1, t0 + 10);
    const auto again = record(20, 2, t0 + 10);
    ASSERT_EQ(again.size(), 1U);
    EXPECT_EQ(again[0].outcome, Outcome::skipped);
    EXPECT_NE(again[0].detail.find(std::to_string(t0 + 10)), std::string::npos);
    EXPECT_EQ(record(20, 2, t0 + 5).at(0).outcome, Outcome::skipped);
}

TEST_F(RecorderTest, EachCounterAndPolicyGetsItsOwnFile) {
    const auto results = record_samples(dir.path(),
                                        {{"home", "skype_udp_out", 1, 100},
                                         {"home", "link_use_essential", 2, 200},
                                         {"brewery", "a_to_b", 3, 300}},
                                        options, t0);
    ASSERT_EQ(results.size(), 3U);
    for (const auto& result : results) {
        EXPECT_EQ(result.outcome, Outcome::created) << result.detail;
        EXPECT_TRUE(std::filesystem::exists(result.file));
    }
    const auto long_name = rrd_path(dir.path(), "home", "link_use_essential");
    const auto series = fetch_rrd(long_name, "AVERAGE", t0 - 10, t0, 10);
    EXPECT_EQ(series.ds_names.at(0), bytes_ds_name("link_use_essential"));
    EXPECT_LE(series.ds_names.at(0).size(), max_ds_name_length);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "brewery" / "a_to_b.rrd"));
}

// <counter>.labels is a text file of one line, ended by a newline (docs/recording.md); one
// written before it had its newline still reads the same.
TEST_F(RecorderTest, TheLabelsFileIsOneLineEndedByANewline) {
    CounterSample sample{"home", "skype_tcp_in", 1, 100,
                         runtime::CounterDescription::of(
                             {"skype",
                              CounterKind::counter,
                              {{Dimension::direction, "in"}, {Dimension::protocol, "tcp"}},
                              ""})};
    std::filesystem::create_directories(dir.path() / "home"); // as record_samples makes it
    remember_labels(dir.path(), sample);
    const auto file = labels_path(dir.path(), "home", "skype_tcp_in");
    std::ifstream in(file, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n') << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    const auto identity = recorded_identity(dir.path(), "home", "skype_tcp_in");
    EXPECT_EQ(identity.family, "skype");
    ASSERT_EQ(identity.labels.size(), 2U);
    EXPECT_EQ(identity.labels[1].value, "tcp");
    std::ofstream(file, std::ios::trunc) << text.substr(0, text.size() - 1); // an older file
    EXPECT_EQ(recorded_identity(dir.path(), "home", "skype_tcp_in").labels[1].value, "tcp");
}

TEST_F(RecorderTest, OneBrokenFileDoesNotStopTheOthers) {
    std::filesystem::create_directories(dir.path() / "home");
    {
        std::ofstream garbage(dir.path() / "home" / "skype_tcp_in.rrd");
        garbage << "not an rrd";
    }
    const auto results = record_samples(
        dir.path(), {{"home", "skype_tcp_in", 1, 1}, {"home", "skype_tcp_out", 1, 1}}, options, t0);
    ASSERT_EQ(results.size(), 2U);
    EXPECT_EQ(results[0].outcome, Outcome::failed);
    EXPECT_NE(results[0].detail.find("skype_tcp_in.rrd"), std::string::npos) << results[0].detail;
    EXPECT_EQ(results[1].outcome, Outcome::created);
}

TEST_F(RecorderTest, WaitsForAnotherWriterAndGivesUpAfterItsPatience) {
    std::filesystem::create_directories(dir.path() / "home");
    const DirectoryLock held(dir.path() / "home", std::chrono::milliseconds(0));
    options.lock_patience = std::chrono::milliseconds(100);
    EXPECT_THROW(record(1, 1, t0), std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "home" / "skype_tcp_in.rrd"));
}

TEST_F(RecorderTest, TemporariesOfAKilledCreationAreRemovedOthersStay) {
    const auto policy_dir = dir.path() / "home";
    std::filesystem::create_directories(policy_dir);
    const auto touch = [](const std::filesystem::path& file) { std::ofstream(file) << "x"; };
    touch(policy_dir / "skype_tcp_out.rrdAb3xYz"); // what mkstemp in librrd leaves
    touch(policy_dir / "other.rrdQWERTY");
    touch(policy_dir / "notes.rrd.txt");
    touch(policy_dir / "short.rrdAb3");
    touch(dir.path() / "outside");
    std::filesystem::create_symlink(dir.path() / "outside", policy_dir / "link.rrdZZZZZZ");
    EXPECT_EQ(record(1, 1, t0).at(0).outcome, Outcome::created);
    EXPECT_FALSE(std::filesystem::exists(policy_dir / "skype_tcp_out.rrdAb3xYz"));
    EXPECT_FALSE(std::filesystem::exists(policy_dir / "other.rrdQWERTY"));
    EXPECT_TRUE(std::filesystem::exists(policy_dir / "notes.rrd.txt"));
    EXPECT_TRUE(std::filesystem::exists(policy_dir / "short.rrdAb3"));
    EXPECT_TRUE(std::filesystem::is_symlink(policy_dir / "link.rrdZZZZZZ"));
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "outside"));
    EXPECT_TRUE(std::filesystem::exists(policy_dir / "skype_tcp_in.rrd"));
}

// In a child with a private mount namespace, a 64 KiB tmpfs is mounted over the test's own
// directory and filled: the host's disks are never touched.
TEST_F(RecorderTest, AFullDiskSaysSo) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "mounting a tmpfs needs root";
    }
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(pipe_fds[0]);
        std::string detail = "setup failed";
        if (::unshare(CLONE_NEWNS) == 0 &&
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
            ::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=64k") == 0) {
            std::ofstream(dir.path() / "filler") << std::string(1 << 20, 'f');
            const auto results = record_samples(
                dir.path(), {CounterSample{"home", "skype_tcp_in", 1, 1}}, options, t0);
            detail = results.empty() ? "no result" : results[0].detail;
        }
        (void)!::write(pipe_fds[1], detail.data(), detail.size());
        ::_exit(0);
    }
    ::close(pipe_fds[1]);
    std::string detail;
    char buffer[512];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
        detail.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_NE(detail.find("No space left on device"), std::string::npos) << detail;
    EXPECT_EQ(detail.find("unknown librrd error"), std::string::npos) << detail;
}

TEST(RrdLayout, DefaultsKeepFiveMinutesForAWeekAndHoursForAYear) {
    testing::TempDir dir;
    const auto file = dir.path() / "default.rrd";
    create_rrd(file, RrdLayout{}, {"x_bytes", "x_pkts"}, t0);
    // A day a month ago is older than a week: only the hourly archive still covers it.
    const auto month_ago = t0 - 30 * 86400;
    EXPECT_EQ(fetch_rrd(file, "AVERAGE", month_ago, month_ago + 86400, 300).step, 3600U);
    EXPECT_EQ(fetch_rrd(file, "MAX", month_ago, month_ago + 86400, 300).step, 3600U);
    EXPECT_EQ(fetch_rrd(file, "AVERAGE", t0 - 3600, t0, 300).step, 300U);
    EXPECT_THROW(create_rrd(file, RrdLayout{}, {"x_bytes"}, t0), RrdError); // never overwrites
}

TEST(RrdLayout, RejectsNonsenseBeforeLibrrdSeesIt) {
    RrdLayout layout;
    layout.heartbeat = std::chrono::seconds(60);
    EXPECT_THROW(validate(layout), std::invalid_argument);
    layout = RrdLayout{};
    layout.archives = {"AVERAGE:0.5:1:10"};
    EXPECT_THROW(validate(layout), std::invalid_argument);
    layout.archives.clear();
    EXPECT_THROW(validate(layout), std::invalid_argument);
    layout = RrdLayout{};
    layout.archives = {"RRA:AVERAGE:2:1:10"}; // xff must be below 1: librrd's message comes back
    testing::TempDir dir;
    EXPECT_THROW(create_rrd(dir.path() / "bad.rrd", layout, {"x"}, t0), RrdError);
}

} // namespace
} // namespace acctc::recording
