// SIGKILL at any moment leaves nothing behind once the next run has swept: no namespace of
// the killed run, and no process inside one.
#include "acctc/testbench/netns.hpp"
#include "acctc/testbench/runner.hpp"
#include "acctc/testbench/scenario.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace acctc::testbench {
namespace {

std::vector<std::string> namespaces_of(pid_t pid) {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(netns_run_dir, error)) {
        RunPrefix owner;
        const auto name = entry.path().filename().string();
        if (RunPrefix::parse(name, owner) && owner.pid == pid) {
            names.push_back(name);
        }
    }
    return names;
}

std::set<ino_t> inodes_of(const std::vector<std::string>& names) {
    std::set<ino_t> inodes;
    for (const auto& name : names) {
        struct stat info {};
        if (::stat((netns_run_dir / name).c_str(), &info) == 0) {
            inodes.insert(info.st_ino);
        }
    }
    return inodes;
}

std::size_t processes_in(const std::set<ino_t>& inodes) {
    std::size_t count = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
        struct stat info {};
        if (::stat((entry.path() / "ns/net").c_str(), &info) == 0 && inodes.count(info.st_ino)) {
            ++count;
        }
    }
    return count;
}

class KilledRun : public ::testing::TestWithParam<int> {};

TEST_P(KilledRun, LeavesNothingAfterTheNextSweep) {
    const auto parsed = parse_scenario_file(std::filesystem::path(ACCTC_SOURCE_DIR) /
                                            "specs/scenarios/skype_supernode.scn");
    ASSERT_TRUE(parsed.scenario.has_value());
    const pid_t child = ::fork();
    if (child == 0) {
        run_scenario(*parsed.scenario);
        ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(GetParam()));
    const auto names = namespaces_of(child);
    const auto inodes = inodes_of(names);
    if (GetParam() >= 60) {
        EXPECT_FALSE(names.empty()) << "the run should have been inside its namespaces";
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);

    remove_stale_namespaces();
    EXPECT_TRUE(namespaces_of(child).empty());
    // Peers die with their parent (PR_SET_PDEATHSIG); give the kernel a bounded moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (processes_in(inodes) != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(processes_in(inodes), 0U);
}

// Before, during and after topology set-up, and while peers run.
INSTANTIATE_TEST_SUITE_P(AtDifferentMoments, KilledRun, ::testing::Values(0, 3, 15, 60, 400, 1200));

} // namespace
} // namespace acctc::testbench
