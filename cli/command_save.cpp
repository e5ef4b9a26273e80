// acctc save: book what the kernel counted since the last save into the period totals in the
// state directory (docs/periods.md), once (for a timer) or every N seconds.
#include "acctc/recording/totals_booking.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/periods.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "service.hpp"
#include "totals.hpp"

#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

struct SaveArguments {
    std::vector<std::string> policies; // names; none: every acctc policy in the namespace
    KernelOptions kernel;
    std::string state_dir;
    unsigned every = 0;
    bool quiet = false;
};

// One save of every policy asked for; false when anything failed (said on stderr).
bool save_once(const SaveArguments& arguments) {
    const auto store = totals_store(arguments.state_dir, arguments.kernel);
    const auto lock = store.lock(); // the kernel read and its booking, as one step
    const runtime::CounterSource source(arguments.kernel.netns, given_backend(arguments.kernel));
    std::vector<runtime::CounterReading> readings;
    std::vector<runtime::AppliedPolicy> unloaded;
    if (arguments.policies.empty()) {
        auto every = source.read_every();
        readings = std::move(every.readings);
        unloaded = std::move(every.unloaded);
    }
    for (const auto& policy : arguments.policies) {
        auto more = source.read(policy);
        readings.insert(readings.end(), more.begin(), more.end());
    }
    bool ok = true;
    for (const auto& gone : unloaded) {
        log_line(LogPriority::error,
                 "acctc save: " + runtime::not_loaded_message(gone, arguments.kernel.netns));
        ok = false;
    }
    const auto now = periods::now();
    const auto result = recording::book_readings(store, lock, readings, now);
    for (const auto& problem : result.errors) {
        log_line(LogPriority::error, "acctc save: " + problem);
        ok = false;
    }
    if (readings.empty()) {
        log_line(LogPriority::warning, "acctc save: no acctc counters found");
    }
    if (!arguments.quiet) {
        for (const auto& booked : result.booked) {
            // Counts of readings, not a sum of bytes: the counters overlap (period_totals.hpp).
            const auto count = booked.booked.readings;
            std::cout << "saved " << booked.policy << ": " << count
                      << (count == 1 ? " reading, " : " readings, ") << booked.booked.changed
                      << " counted since the last save, at " << periods::local_text(now) << " in "
                      << store.file_for(booked.policy).string() << "\n";
        }
        std::cout << std::flush;
    }
    return ok;
}

int run_save(const std::vector<std::string>& args) {
    SaveArguments arguments;
    po::options_description options("options");
    options.add_options()(
        "every", po::value(&arguments.every),
        "keep running and save every SECONDS, on multiples of SECONDS (until SIGTERM); a crash "
        "loses at most what was counted since the last save")(
        "quiet,q", po::bool_switch(&arguments.quiet),
        "print only problems")("policy", po::value(&arguments.policies),
                               "policy file or name as applied (default: every acctc policy)");
    add_state_dir_option(options, arguments.state_dir);
    add_kernel_options(options, arguments.kernel);
    po::positional_options_description positional;
    positional.add("policy", -1);
    po::variables_map map;
    if (!parse_command_line(args,
                            "acctc save [--state-dir DIR] [--netns NAME] [--backend NAME] "
                            "[--every SECONDS] [-q] [POLICY...]",
                            options, positional, map)) {
        return exit_ok;
    }
    if (!name_policies(arguments.policies, arguments.kernel)) {
        return exit_policy_error;
    }
    if (map.count("every") != 0U && arguments.every == 0) {
        throw UsageError("--every needs at least 1 second");
    }
    if (arguments.every == 0) {
        return save_once(arguments) ? exit_ok : exit_policy_error;
    }
    run_every(arguments.every, [&](bool first) {
        try {
            save_once(arguments);
        } catch (const std::exception& error) {
            // A policy not applied yet (early boot) is worth a line, not an exit.
            log_line(LogPriority::error, std::string("acctc save: ") + error.what());
        }
        if (first) {
            notify_service_manager(
                "READY=1\nSTATUS=saving every " + std::to_string(arguments.every) + " s into " +
                totals_store(arguments.state_dir, arguments.kernel).directory().string());
        }
    });
    notify_service_manager("STOPPING=1");
    return exit_ok;
}

const CommandRegistration registration{
    {"save",
     "book counted bytes into period totals that survive resets and reboots (once, or "
     "--every SECONDS)",
     &run_save}};

} // namespace
} // namespace acctc::cli
