#include "acctc/bench/compile_timing.hpp"

#include "acctc/bench/datapath.hpp"
#include "acctc/testbench/temporary_directory.hpp"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace acctc::bench {
namespace {

double seconds(const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

struct Run {
    double user = 0;
    double system = 0;
    double wall = 0;
};

// `acctc compile FILE > /dev/null` (stderr too) in a process of its own, as a user runs it;
// its CPU time from wait4(). posix_spawn does not copy this process's memory first.
Run compile_once(const std::filesystem::path& file) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string program = "acctc";
    std::string command = "compile";
    std::string path = file.string();
    char* argv[] = {program.data(), command.data(), path.data(), nullptr};
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        throw std::runtime_error("compile timing: cannot start acctc compile");
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            throw std::runtime_error("compile timing: wait4 failed");
        }
    }
    Run run;
    run.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("compile timing: acctc compile " + path + " failed");
    }
    run.user = seconds(usage.ru_utime);
    run.system = seconds(usage.ru_stime);
    return run;
}

// The kinds whose policy text differs between IP versions; the others are timed once.
bool has_ip_version(ClassKind kind) {
    return kind == ClassKind::networks || kind == ClassKind::hosts;
}

} // namespace

std::vector<CompileTiming>
run_compile_timing(const std::vector<ClassKind>& kinds, const std::vector<std::size_t>& sizes,
                   const std::vector<int>& ip_versions, unsigned repetitions,
                   const std::function<void(const std::string&)>& progress) {
    // The policy files of this run, removed with the directory.
    const testbench::TemporaryDirectory directory("acctc-bench-compile");
    std::vector<CompileTiming> timings;
    std::vector<std::filesystem::path> files;
    for (const auto kind : kinds) {
        for (const auto size : sizes) {
            for (const int ip : has_ip_version(kind) ? ip_versions : std::vector<int>{0}) {
                CompileTiming timing;
                timing.kind = kind;
                timing.ip_version = ip;
                timing.classes = std::min(size, max_compile_classes(kind));
                const std::string source =
                    make_compile_source(kind, timing.classes, timing.ip_version == 6);
                timing.source_bytes = source.size();
                files.push_back(directory.path() /
                                (to_string(kind) + "-" + std::to_string(timing.classes) + "-v" +
                                 std::to_string(ip) + ".acct"));
                std::ofstream(files.back()) << source;
                timings.push_back(std::move(timing));
            }
        }
    }
    // Every case once per repetition, so a slow spell of the machine spreads over them all.
    for (unsigned rep = 0; rep < repetitions; ++rep) {
        for (std::size_t i = 0; i < timings.size(); ++i) {
            const Run run = compile_once(files[i]);
            timings[i].cpu_seconds.push_back(run.user + run.system);
            timings[i].user_seconds.push_back(run.user);
            timings[i].wall_seconds.push_back(run.wall);
        }
    }
    for (auto& timing : timings) {
        if (repetitions == 0) {
            break;
        }
        timing.median_cpu_seconds = median(timing.cpu_seconds);
        timing.min_cpu_seconds =
            *std::min_element(timing.cpu_seconds.begin(), timing.cpu_seconds.end());
        timing.max_cpu_seconds =
            *std::max_element(timing.cpu_seconds.begin(), timing.cpu_seconds.end());
        timing.median_user_seconds = median(timing.user_seconds);
        timing.median_wall_seconds = median(timing.wall_seconds);
        if (progress) {
            std::ostringstream line;
            line << "compile " << to_string(timing.kind)
                 << (timing.ip_version ? " IPv" + std::to_string(timing.ip_version) : "") << " "
                 << timing.classes << " classes: " << timing.median_cpu_seconds << " s CPU ("
                 << timing.min_cpu_seconds << "-" << timing.max_cpu_seconds << "), user "
                 << timing.median_user_seconds << " s, wall " << timing.median_wall_seconds
                 << " s, median of " << repetitions;
            progress(line.str());
        }
    }
    return timings;
}

} // namespace acctc::bench
