// acctc report: the period totals of the state directory plus what the kernel counted since the
// last save, per family, counter and host, for the current hour, day or month and those before.
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"
#include "acctc/runtime/period_report.hpp"
#include "acctc/runtime/periods.hpp"
#include "acctc/runtime/quotas.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "totals.hpp"

#include <algorithm>
#include <iostream>
#include <iterator>
#include <map>
#include <set>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

struct ReportArguments {
    std::string policy;
    std::string period = "month";
    runtime::ReportOptions report;
    bool json = false;
    bool exact = false;
    bool saved_only = false;
    std::string state_dir;
    KernelOptions kernel;
};

// The start day of each policy's monthly quota in the kernel (docs/runtime.md, "Quotas"): the
// billing day the policy itself states. Read with --saved too (it decides the months, not the
// counts: a report of the saved totals must not move them to the 1st); empty when none can be
// read (no privilege, policy not loaded).
std::map<std::string, int> quota_first_days(const std::string& policy,
                                            const KernelOptions& kernel) {
    std::map<std::string, int> days;
    try {
        const runtime::NetnsScope scope(kernel.netns);
        for (const auto& quota : runtime::read_quotas(policy)) {
            if (quota.identity.period == QuotaPeriod::month && days.count(quota.policy) == 0 &&
                !periods::first_day_problem(static_cast<int>(quota.identity.start_day))) {
                days[quota.policy] = static_cast<int>(quota.identity.start_day);
            }
        }
    } catch (const std::exception&) {
        // No quotas to read: months start on the 1st unless --first-day says otherwise.
    }
    return days;
}

int run_report(const std::vector<std::string>& args) {
    ReportArguments arguments;
    po::options_description options("options");
    options.add_options()("period", po::value(&arguments.period),
                          "hour, day or month (default month), in the local time zone")(
        "first-day", po::value(&arguments.report.first_day),
        "the day of the month a month period starts on, 1..28 (billing day; default: the start "
        "day of the policy's monthly quota as applied, else 1)")(
        "history", po::value(&arguments.report.history),
        "also the N complete periods before the current one")(
        "share-of", po::value(&arguments.report.share_of),
        "a family or counter: each row's bytes as a share of its bytes (e.g. --share-of wan)")(
        "top", po::value(&arguments.report.top),
        "only the N largest families, and hosts per counter; the rest summed")(
        "json", po::bool_switch(&arguments.json), "print JSON")(
        "exact,x", po::bool_switch(&arguments.exact), "exact numbers instead of human units")(
        "saved", po::bool_switch(&arguments.saved_only),
        "only the saved totals, without reading the kernel's counters")(
        "policy", po::value(&arguments.policy),
        "policy name or file; every policy with totals or counters if absent");
    add_state_dir_option(options, arguments.state_dir);
    add_kernel_options(options, arguments.kernel);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(
            args,
            "acctc report [POLICY] [--period hour|day|month] [--first-day N] [--history N] "
            "[--share-of COUNTER] [--top N] [--json] [-x] [--saved] [--state-dir DIR] "
            "[--netns NAME] [--backend NAME]",
            options, positional, map)) {
        return exit_ok;
    }
    if (map.count("top") != 0U && arguments.report.top == 0) {
        throw UsageError("--top takes a number of families of 1 or more, not 0");
    }
    const auto length = periods::parse_length(arguments.period);
    if (!length) {
        throw UsageError("--period takes hour, day or month, not '" + arguments.period + "'");
    }
    arguments.report.length = *length;
    // Beyond the buckets a file keeps there is nothing to show (docs/periods.md).
    const std::size_t kept_periods = runtime::max_history(*length);
    if (arguments.report.history > kept_periods) {
        throw UsageError("--history " + std::to_string(arguments.report.history) +
                         ": the totals keep " + std::to_string(kept_periods) + " " +
                         arguments.period + "s before the current one");
    }
    if (auto problem = periods::first_day_problem(arguments.report.first_day)) {
        throw UsageError("--first-day: " + *problem);
    }
    std::string policy;
    if (!arguments.policy.empty()) {
        const auto name = policy_name_of(arguments.policy, arguments.kernel);
        if (!name) {
            return exit_policy_error;
        }
        policy = *name;
    }
    const auto now = periods::now();
    const auto store = totals_store(arguments.state_dir, arguments.kernel);
    // What the kernel counted since the last save, booked in memory only: the report is
    // current without writing anything.
    std::map<std::string, std::vector<runtime::CounterSample>> live;
    if (!arguments.saved_only) {
        try {
            const runtime::CounterSource source(arguments.kernel.netns,
                                                given_backend(arguments.kernel));
            for (auto& sample : runtime::samples_of(source.read(policy))) {
                live[sample.policy].push_back(std::move(sample));
            }
        } catch (const runtime::RuntimeError& error) {
            std::cerr << "acctc report: "
                      << (error.kind() == runtime::ErrorKind::unknown_table ? "note: "
                                                                            : "warning: ")
                      << "only the saved totals: " << error.what() << "\n";
        }
    }
    std::set<std::string> names;
    if (!policy.empty()) {
        names.insert(policy);
    } else {
        for (const auto& name : store.policies()) {
            names.insert(name);
        }
        for (const auto& [name, samples] : live) {
            names.insert(name);
        }
    }
    if (!policy.empty() && live.count(policy) == 0) {
        // Neither applied nor ever saved: a mistyped name, not an empty report. With --saved
        // the kernel is not asked, and a name without saved totals has nothing to show either.
        const auto saved = store.policies();
        if (std::find(saved.begin(), saved.end(), policy) == saved.end()) {
            std::cerr << "acctc report: policy " << policy
                      << (arguments.saved_only ? " has no saved totals in " : " has no totals in ")
                      << store.directory().string()
                      << (arguments.saved_only ? ""
                                               : " and is not applied" + where(arguments.kernel))
                      << "\n";
            return exit_policy_error;
        }
    }
    if (names.empty()) {
        std::cerr << "acctc report: no totals in " << store.directory().string()
                  << " and no acctc counters" << where(arguments.kernel) << "\n";
        return exit_policy_error;
    }
    const auto from_quotas = map.count("first-day") != 0U
                                 ? std::map<std::string, int>{}
                                 : quota_first_days(policy, arguments.kernel);
    std::vector<runtime::PolicyReport> reports;
    bool damaged = false;
    for (const auto& name : names) {
        runtime::PolicyTotals totals;
        try {
            totals = store.load(name);
        } catch (const runtime::StateError& error) {
            // One damaged file costs its policy, not the report of the others.
            std::cerr << "acctc report: " << error.what() << "\n";
            damaged = true;
            continue;
        }
        if (const auto found = live.find(name); found != live.end()) {
            runtime::book(totals, found->second, now);
        }
        auto report_options = arguments.report;
        if (const auto found = from_quotas.find(name); found != from_quotas.end()) {
            report_options.first_day = found->second;
        }
        try {
            auto more = runtime::build_reports(totals, now, report_options);
            std::move(more.begin(), more.end(), std::back_inserter(reports));
        } catch (const std::invalid_argument& error) {
            throw UsageError(error.what());
        }
    }
    if (arguments.json) {
        std::cout << runtime::report_to_json(reports, arguments.report, now)
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    } else {
        std::cout << runtime::format_report(reports, arguments.report, now, arguments.exact);
    }
    return damaged ? exit_policy_error : exit_ok;
}

const CommandRegistration registration{
    {"report", "totals per hour, day or month: shares, top N, projection to the period's end",
     &run_report}};

} // namespace
} // namespace acctc::cli
