// acctc record: store the kernel's counters in RRD files, once (for a timer) or every N seconds.
#include "acctc/recording/host_series.hpp"
#include "acctc/recording/recorder.hpp"
#include "acctc/recording/rrd_names.hpp"
#include "acctc/runtime/counters.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "service.hpp"

#include <ctime>
#include <filesystem>
#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;
using recording::RecordedCounter;

struct RecordArguments {
    std::vector<std::string> policies; // names; none: every acctc policy in the namespace
    KernelOptions kernel;
    std::string rrd_dir = "/var/lib/acctc/rrd";
    unsigned every = 0;
    unsigned step = 300;
    unsigned heartbeat = 0; // 0: twice the step
    std::vector<std::string> archives;
    std::size_t top = recording::default_recorded_hosts; // hosts per `split host` counter
    bool quiet = false;
};

// Reads and records once; returns false if anything failed (already reported on stderr).
bool record_once(const RecordArguments& arguments, const recording::RecordOptions& options) {
    // The backend named, else those acctc remembers applying the policies with here.
    const runtime::CounterSource source(arguments.kernel.netns, given_backend(arguments.kernel));
    std::vector<runtime::CounterReading> readings;
    std::vector<runtime::AppliedPolicy> unloaded; // of "every policy"
    if (arguments.policies.empty()) {
        auto every = source.read_every();
        readings = std::move(every.readings);
        unloaded = std::move(every.unloaded);
    }
    for (const auto& policy : arguments.policies) {
        auto more = source.read(policy);
        readings.insert(readings.end(), more.begin(), more.end());
    }
    // `split host`: the top hosts on their own, the rest as COUNTER@other.
    const auto samples = recording::host_series(
        runtime::samples_of(readings), arguments.top, [&](const runtime::CounterSample& series) {
            return std::filesystem::exists(
                recording::rrd_path(arguments.rrd_dir, series.policy, series.counter));
        });
    const std::time_t now = std::time(nullptr); // stamped after reading: the values' own time
    bool ok = true;
    // "Every policy" must not quietly become fewer after `nft flush ruleset`.
    for (const auto& gone : unloaded) {
        log_line(LogPriority::error,
                 "acctc record: " + runtime::not_loaded_message(gone, arguments.kernel.netns));
        ok = false;
    }
    const auto results = recording::record_samples(arguments.rrd_dir, samples, options, now);
    std::size_t created = 0;
    std::size_t updated = 0;
    std::size_t skipped = 0;
    std::string skipped_why; // the first one's, e.g. "already recorded at 1700000000"
    for (const auto& result : results) {
        switch (result.outcome) {
        case RecordedCounter::Outcome::created:
            ++created;
            break;
        case RecordedCounter::Outcome::updated:
            ++updated;
            break;
        case RecordedCounter::Outcome::skipped:
            // Expected when two runs share a second (a timer and a manual run): one line for
            // all of them, none with --quiet.
            if (skipped++ == 0) {
                skipped_why = result.detail;
            }
            break;
        case RecordedCounter::Outcome::failed:
            log_line(LogPriority::error, "acctc record: " + result.detail);
            ok = false;
            break;
        }
    }
    if (samples.empty()) {
        log_line(LogPriority::warning, "acctc record: no acctc counters found");
    }
    if (!arguments.quiet) {
        if (skipped > 0) {
            log_line(LogPriority::notice, "acctc record: skipped " + std::to_string(skipped) +
                                              " counter(s) (" + skipped_why +
                                              (skipped > 1 ? ", or later" : "") + ")");
        }
        std::cout << "recorded " << created + updated << " counter(s) at "
                  << format_time(now, "%F %T %Z", false) << " in " << arguments.rrd_dir << " ("
                  << created << " new file(s))\n"
                  << std::flush;
    }
    return ok;
}

int run_record(const std::vector<std::string>& args) {
    RecordArguments arguments;
    po::options_description options("options");
    options.add_options()("rrd-dir,d",
                          po::value(&arguments.rrd_dir)->default_value(arguments.rrd_dir),
                          "directory of the RRD files: DIR/<policy>/<counter>.rrd")(
        "every", po::value(&arguments.every),
        "keep running and record every SECONDS, on multiples of SECONDS (until SIGTERM)")(
        "step", po::value(&arguments.step)->default_value(arguments.step),
        "new files: seconds per primary data point")(
        "heartbeat", po::value(&arguments.heartbeat),
        "new files: seconds without a reading before the rate is unknown (default: 2 x step)")(
        "rra", po::value(&arguments.archives)->composing(),
        "new files: an archive, e.g. RRA:AVERAGE:0.5:5m:1w (repeatable; replaces the defaults)")(
        "top", po::value(&arguments.top)->default_value(arguments.top),
        "split host counters: record the N hosts with the most bytes (and every host recorded "
        "before) as COUNTER@HOST, the rest summed as COUNTER@other")(
        "quiet,q", po::bool_switch(&arguments.quiet),
        "print only problems")("policy", po::value(&arguments.policies),
                               "policy file or name as applied (default: every acctc policy)");
    add_kernel_options(options, arguments.kernel);
    po::positional_options_description positional;
    positional.add("policy", -1);
    po::variables_map map;
    if (!parse_command_line(
            args,
            "acctc record [--rrd-dir DIR] [--netns NAME] [--backend NAME] [--every SECONDS] "
            "[--step S] [--heartbeat S] [--rra SPEC]... [--top N] [POLICY...]",
            options, positional, map)) {
        return exit_ok;
    }
    if (!name_policies(arguments.policies, arguments.kernel)) {
        return exit_policy_error;
    }
    recording::RecordOptions record_options;
    record_options.layout.step = std::chrono::seconds(arguments.step);
    record_options.layout.heartbeat =
        std::chrono::seconds(arguments.heartbeat != 0 ? arguments.heartbeat : 2 * arguments.step);
    // The default archives follow the step; explicit --rra definitions are taken as given.
    record_options.layout.archives =
        arguments.archives.empty()
            ? recording::RrdLayout::default_archives(record_options.layout.step)
            : arguments.archives;
    try {
        recording::validate(record_options.layout);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    if (map.count("every") != 0U && arguments.every == 0) {
        throw UsageError("--every needs at least 1 second");
    }
    if (arguments.every == 0) {
        return record_once(arguments, record_options) ? exit_ok : exit_policy_error;
    }
    run_every(arguments.every, [&](bool first) {
        try {
            record_once(arguments, record_options);
        } catch (const std::exception& error) {
            // A policy that is not applied yet (early boot) is worth a line, not an exit.
            log_line(LogPriority::error, std::string("acctc record: ") + error.what());
        }
        if (first) {
            // Type=notify: one round is done, so the files exist for whatever comes after.
            notify_service_manager("READY=1\nSTATUS=recording every " +
                                   std::to_string(arguments.every) + " s into " +
                                   arguments.rrd_dir);
        }
    });
    notify_service_manager("STOPPING=1");
    return exit_ok;
}

const CommandRegistration registration{
    {"record", "store counter values in RRD files (once, or --every SECONDS)", &run_record}};

} // namespace
} // namespace acctc::cli
