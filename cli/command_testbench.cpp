// acctc testbench: runs end-to-end scenarios in network namespaces and compares every counter
// with what the fake peers sent and what an independent capture saw.
#include "acctc/testbench/cgroups.hpp"
#include "acctc/testbench/netns.hpp"
#include "acctc/testbench/private_bpffs.hpp"
#include "acctc/testbench/runner.hpp"
#include "acctc/testbench/scenario.hpp"
#include "command.hpp"
#include "common.hpp"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <unistd.h>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;
namespace tb = acctc::testbench;

// A scenario argument is a file, or a name looked up in the scenario directory.
std::vector<std::filesystem::path> scenario_files(const std::vector<std::string>& names,
                                                  const std::filesystem::path& directory) {
    std::vector<std::filesystem::path> files;
    if (names.empty()) {
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
            if (entry.path().extension() == ".scn") {
                files.push_back(entry.path());
            }
        }
        if (error) {
            throw UsageError("cannot list " + directory.string() + ": " + error.message());
        }
        std::sort(files.begin(), files.end());
        return files;
    }
    for (const auto& name : names) {
        std::filesystem::path path = name;
        if (!std::filesystem::exists(path)) {
            path = directory / (name + ".scn");
        }
        if (!std::filesystem::exists(path)) {
            throw UsageError("no scenario " + name + " (neither a file nor in " +
                             directory.string() + ")");
        }
        files.push_back(path);
    }
    return files;
}

// A comma-separated list of backends (`both` is nft,iptables); with several, each scenario runs
// on each and all must count the same.
std::vector<runtime::BackendKind> parse_backends(const std::string& text) {
    std::vector<runtime::BackendKind> backends;
    std::string::size_type start = 0;
    for (;;) {
        const auto comma = text.find(',', start);
        const std::string name = text.substr(start, comma - start);
        if (name == "both") {
            backends.insert(backends.end(),
                            {runtime::BackendKind::nftables, runtime::BackendKind::iptables});
        } else if (const auto* backend = runtime::backend_named(name)) {
            backends.push_back(backend->kind);
        } else {
            throw UsageError("--backend takes " + runtime::backend_names(", ") +
                             " or both (or a comma-separated list of them), not '" + name + "'");
        }
        if (comma == std::string::npos) {
            return backends;
        }
        start = comma + 1;
    }
}

void print_progress(std::size_t index, std::size_t count, const std::string& name,
                    const tb::ScenarioResult& result, bool several_backends) {
    std::cout << "[" << index + 1 << "/" << count << "] " << std::left << std::setw(32)
              << (several_backends
                      ? name + " (" + std::string(runtime::backend_info(result.backend).name) + ")"
                      : name)
              << " ";
    if (result.skipped) {
        std::cout << "skipped: " << *result.skipped << "\n";
        return;
    }
    std::cout << (result.passed() ? "pass" : "FAIL") << "  " << result.checks.size()
              << " counters, " << result.flows.size() << " flows, " << std::fixed
              << std::setprecision(1) << result.seconds << " s\n";
    for (const auto& skipped : result.skipped_flows) {
        std::cout << "    skipped: " << skipped << "\n";
    }
}

// Namespaces and cgroup directories of runs that were killed.
std::vector<std::string> remove_leftovers() {
    auto removed = tb::remove_stale_namespaces();
    try {
        for (auto& name : tb::remove_stale_cgroups()) {
            removed.push_back("cgroup " + name);
        }
    } catch (const std::exception&) {
        // No cgroup2 mounted: nothing of ours can be there.
    }
    return removed;
}

int run_scenarios(const std::vector<std::string>& args) {
    po::options_description options("options");
    std::string directory = tb::default_scenario_directory().string();
    std::string backend_text = "both";
    static const std::string backend_help =
        runtime::backend_names(", ") +
        ", both (nft,iptables) or a comma-separated list (same counts required); default both";
    options.add_options()("dir", po::value(&directory),
                          "where scenario names are looked up (default: the source tree's "
                          "specs/scenarios)")("check", "only parse the scenarios")(
        "verbose,v", "print every counter, not only mismatches")(
        "backend", po::value(&backend_text), backend_help.c_str());
    po::options_description hidden;
    hidden.add_options()("scenario", po::value<std::vector<std::string>>());
    options.add(hidden);
    po::positional_options_description positional;
    positional.add("scenario", -1);
    po::variables_map values;
    if (!parse_command_line(args,
                            "acctc testbench run [--dir DIR] [--backend LIST] [--check] "
                            "[SCENARIO...]",
                            options, positional, values)) {
        return exit_ok;
    }
    const auto backends = parse_backends(backend_text);
    const auto names = values.count("scenario") != 0U
                           ? values["scenario"].as<std::vector<std::string>>()
                           : std::vector<std::string>{};
    const auto files = scenario_files(names, directory);
    const bool check_only = values.count("check") != 0U;
    if (!check_only && ::geteuid() != 0) {
        std::cerr << "acctc testbench: creating network namespaces needs root\n";
        return exit_usage;
    }
    if (!check_only) {
        for (const auto& name : remove_leftovers()) {
            std::cerr << "removed leftover " << name << "\n";
        }
    }
    // acctc's BPF pins (the correction of merged packets) in a bpffs of the bench's own.
    std::optional<tb::PrivateBpffs> bpffs;
    if (!check_only) {
        try {
            bpffs.emplace();
        } catch (const std::exception& error) {
            std::cerr << "acctc testbench: no private bpffs, merged packets stay uncorrected: "
                      << error.what() << "\n";
        }
    }
    std::vector<tb::ScenarioResult> results;
    bool malformed = false;
    for (std::size_t index = 0; index < files.size(); ++index) {
        auto parsed = tb::parse_scenario_file(files[index]);
        render_all(std::cerr, parsed.source, parsed.diagnostics);
        if (!parsed.scenario || check_only) {
            std::cout << "[" << index + 1 << "/" << files.size() << "] " << std::left
                      << std::setw(32) << files[index].stem().string()
                      << (parsed.scenario ? "ok" : "MALFORMED") << "\n";
            malformed = malformed || !parsed.scenario;
            continue;
        }
        const std::size_t first_run = results.size();
        for (const auto backend : backends) {
            auto result = tb::run_scenario(*parsed.scenario, backend);
            if (results.size() > first_run) {
                tb::compare_backends(results[first_run], result);
            }
            print_progress(index, files.size(), files[index].stem().string(), result,
                           backends.size() > 1);
            if (!result.passed() || values.count("verbose") != 0U) {
                tb::print_mismatches(std::cout, result, values.count("verbose") != 0U);
            }
            results.push_back(std::move(result));
        }
    }
    if (!check_only) {
        tb::print_summary(std::cout, results);
    }
    const bool all_passed = std::all_of(results.begin(), results.end(),
                                        [](const auto& result) { return result.passed(); });
    return malformed || !all_passed ? exit_policy_error : exit_ok;
}

int run_cleanup(const std::vector<std::string>& args) {
    po::options_description options("options");
    po::positional_options_description positional;
    po::variables_map values;
    if (!parse_command_line(args, "acctc testbench cleanup", options, positional, values)) {
        return exit_ok;
    }
    for (const auto& name : remove_leftovers()) {
        std::cout << "removed " << name << "\n";
    }
    return exit_ok;
}

int run_testbench(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << "usage: acctc testbench run [--dir DIR] [--backend LIST] "
                     "[--check] [SCENARIO...]\n"
                     "       acctc testbench cleanup\n\n"
                     "run      run end-to-end scenarios in network namespaces (needs root)\n"
                     "cleanup  remove namespaces left behind by killed runs\n";
        return args.empty() ? exit_usage : exit_ok;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "run") {
        return run_scenarios(rest);
    }
    if (args[0] == "cleanup") {
        return run_cleanup(rest);
    }
    throw UsageError("unknown testbench command '" + args[0] + "' (run or cleanup)");
}

const CommandRegistration registration{
    {"testbench", "run end-to-end scenarios in network namespaces", run_testbench}};

} // namespace
} // namespace acctc::cli
