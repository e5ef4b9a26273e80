// The state directory's files: atomic replacement, damaged files reported and left alone.
#include "acctc/recording/state_store.hpp"
#include "acctc/recording/totals_booking.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace acctc::recording {
namespace {

namespace fs = std::filesystem;

struct TemporaryDir {
    fs::path path = fs::temp_directory_path() /
                    ("acctc-state-" + std::to_string(::getpid()) + "-" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    TemporaryDir() { fs::remove_all(path); }
    ~TemporaryDir() { fs::remove_all(path); }
};

runtime::CounterReading reading(const std::string& policy, const std::string& counter,
                                std::uint64_t packets, std::uint64_t bytes) {
    return {
        {policy, counter, packets, bytes, runtime::CounterDescription::of({counter, {}, {}, ""})}};
}

std::string contents(const fs::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

const auto now = std::chrono::sys_seconds{std::chrono::seconds{1773000000}};

TEST(StateStore, BooksAndReadsBack) {
    TemporaryDir dir;
    const StateStore store(dir.path, "");
    const auto lock = store.lock();
    EXPECT_TRUE(store.load("p").series.empty());
    auto result =
        book_readings(store, lock, {reading("p", "wan", 3, 300), reading("q", "x", 1, 1)}, now);
    EXPECT_TRUE(result.errors.empty());
    ASSERT_EQ(result.booked.size(), 2U);
    result = book_readings(store, lock, {reading("p", "wan", 5, 500)}, now);
    EXPECT_EQ(result.booked[0].booked, (runtime::Booked{1, 1}));
    EXPECT_EQ(store.policies(), (std::vector<std::string>{"p", "q"}));
    EXPECT_EQ(store.load("p").series.at({runtime::BackendKind::nftables, "wan", ""}).baseline,
              (runtime::Amount{5, 500}));
    // Only the files themselves: no temporary file left beside them.
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(store.directory())) {
        files += entry.path().filename().string().front() != '.';
    }
    EXPECT_EQ(files, 2U);
    EXPECT_EQ(StateStore(dir.path, "/run/netns/lab").file_for("p"),
              dir.path / "netns" / "lab" / "p.json");
}

// A damaged file is an error naming it; it stays as it was, and other policies are booked.
TEST(StateStore, DamagedFileIsReportedAndKept) {
    TemporaryDir dir;
    const StateStore store(dir.path, "");
    const auto lock = store.lock();
    book_readings(store, lock, {reading("p", "wan", 3, 300)}, now);
    const auto file = store.file_for("p");
    const auto good = contents(file);
    for (const std::string& damage :
         {good.substr(0, good.size() / 2), std::string("\x00\x01", 2), std::string(""),
          std::string("{\"format\":\"acctc-totals\"}")}) {
        std::ofstream(file, std::ios::trunc) << damage;
        EXPECT_THROW(store.load("p"), runtime::StateError);
        const auto result =
            book_readings(store, lock, {reading("p", "wan", 9, 900), reading("q", "x", 1, 1)}, now);
        ASSERT_EQ(result.errors.size(), 1U);
        EXPECT_NE(result.errors[0].find(file.string()), std::string::npos) << result.errors[0];
        EXPECT_EQ(contents(file), damage);
        ASSERT_EQ(result.booked.size(), 1U);
        EXPECT_EQ(result.booked[0].policy, "q");
    }
}

// A writer killed between creating its temporary file and the rename leaves "p.json.XXXXXX";
// the next save under the lock removes it, and nothing else.
TEST(StateStore, SaveRemovesTemporariesOfKilledWriters) {
    TemporaryDir dir;
    const StateStore store(dir.path, "");
    const auto lock = store.lock();
    book_readings(store, lock, {reading("p", "wan", 3, 300)}, now);
    const auto directory = store.directory();
    for (const char* name : {"p.json.Ab3xYz", "q.json.000000"}) {
        std::ofstream(directory / name) << "{";
    }
    for (const char* name : {"notes.txt", "p.json.old", "p.json.Ab3xY", "x.json.Ab3xYz.json"}) {
        std::ofstream(directory / name) << "keep";
    }
    book_readings(store, lock, {reading("p", "wan", 5, 500)}, now);
    std::vector<std::string> left;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        left.push_back(entry.path().filename().string());
    }
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{".acctc.lock", "notes.txt", "p.json", "p.json.Ab3xY",
                                              "p.json.old", "x.json.Ab3xYz.json"}));
}

TEST(StateStore, StateDirFollowsOptionThenVariable) {
    ::setenv(state_dir_variable, "/tmp/from-variable", 1);
    EXPECT_EQ(state_dir("/tmp/given"), fs::path("/tmp/given"));
    EXPECT_EQ(state_dir(), fs::path("/tmp/from-variable"));
    ::unsetenv(state_dir_variable);
    EXPECT_EQ(state_dir(), fs::path(default_state_dir));
}

} // namespace
} // namespace acctc::recording
