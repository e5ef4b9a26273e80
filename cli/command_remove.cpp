// acctc remove: delete a policy's table, and nothing else, reporting final counter values.
#include "acctc/recording/totals_booking.hpp"
#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counter_report.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/errors.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "totals.hpp"

#include <algorithm>
#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

int run_remove(const std::vector<std::string>& args) {
    std::string argument;
    KernelOptions values;
    std::string state_dir;
    po::options_description options("options");
    options.add_options()("policy", po::value(&argument)->required(),
                          "policy name, or the policy file");
    add_kernel_options(options, values);
    add_state_dir_option(options, state_dir);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(args,
                            "acctc remove [--netns NAME] [--backend NAME] [--state-dir DIR] POLICY",
                            options, positional, map)) {
        return exit_ok;
    }
    const auto policy = policy_name_of(argument, values);
    if (!policy) {
        return exit_policy_error;
    }
    const auto kind = backend_for(values, *policy);
    const auto backend = runtime::make_backend(kind, values.netns);
    runtime::RemoveReport report;
    // The final values go into the period totals, whose history stays.
    const auto kept = totals_to_keep(state_dir, values, "remove");
    try {
        report = backend->remove(*policy);
    } catch (const runtime::RuntimeError& error) {
        const auto remembered = runtime::applied_policies(values.netns, kind);
        if (error.kind() != runtime::ErrorKind::unknown_table ||
            std::find(remembered.begin(), remembered.end(), *policy) == remembered.end()) {
            throw;
        }
        // Flushed behind our back: nothing left to delete, only the expectation to drop.
        runtime::forget_applied(values.netns, kind, *policy);
        std::cout << "policy " << *policy << " was not loaded" << where(values)
                  << " (its table was already gone); acctc no longer expects it\n";
        return exit_ok;
    }
    runtime::forget_applied(values.netns, kind, *policy);
    if (kept) {
        try {
            recording::change_totals(
                kept->store, kept->lock, *policy, [&](runtime::PolicyTotals& totals) {
                    runtime::book_final(totals, runtime::samples_of(report.final_counters),
                                        periods::now());
                });
        } catch (const std::exception& error) {
            std::cerr << "acctc remove: warning: period totals: " << error.what() << "\n";
        }
    }
    std::cout << "removed " << runtime::kernel_object(kind, report.table) << where(values)
              << "; final counter values:\n"
              << runtime::format_counter_table(report.final_counters, true);
    return exit_ok;
}

const CommandRegistration registration{
    {"remove", "delete a policy's table from the kernel", &run_remove}};

} // namespace
} // namespace acctc::cli
