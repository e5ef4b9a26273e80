// acctc apply: load a policy into the kernel in one transaction, keeping counter values.
#include "acctc/recording/totals_booking.hpp"
#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/device_offloads.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/network_devices.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "kernel_refusal.hpp"
#include "totals.hpp"

#include <iostream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

void print_report(const runtime::ApplyReport& report, const CompiledPolicy& policy,
                  runtime::BackendKind backend, const KernelOptions& values) {
    std::cout << (report.dry_run ? "would load" : "loaded") << " policy " << policy.policy_name
              << " into " << runtime::kernel_object(backend, report.table) << where(values) << ": "
              << report.kept.size() << " counters kept, " << report.added.size() << " new, "
              << report.removed.size() << " removed"
              << (report.created
                      ? " (new " + std::string(runtime::backend_info(backend).holder) + ")"
                      : "")
              << "\n";
    if (report.unfinished_replaced) {
        std::cout << "note: an earlier apply of policy " << policy.policy_name
                  << " stopped between its two steps and left its table counting nothing; "
                     "loaded anew\n";
    }
    if (report.chains_recreated) {
        std::cout << "note: a base chain's hook or priority changed, so the chains were "
                     "re-created; packets crossing at that instant may be counted by both "
                     "versions or by neither\n";
    }
    for (const auto& note : runtime::set_change_notes(report)) {
        std::cout << note << "\n";
    }
    // A removed `split host` set's hosts, one line each (iptables: docs/iptables.md).
    const auto host_of = [](const runtime::CounterReading& reading) -> const std::string& {
        return reading.sample.label(Dimension::host);
    };
    for (const auto& removed : report.removed) {
        std::cout << (report.dry_run ? "would remove" : "removed") << " counter "
                  << removed.sample.counter
                  << (host_of(removed).empty() ? "" : " host " + host_of(removed))
                  << (report.dry_run ? " (now " : " (final ") << removed.sample.packets
                  << " packets, " << removed.sample.bytes << " bytes)"
                  << (removed.origin().empty() ? "" : " from " + removed.origin()) << "\n";
    }
}

// The counters planned for the BPF correction of merged packets count them after all.
std::string wire_fallback_note(const CompiledPolicy& policy, const std::string& reason) {
    std::string counters;
    for (const auto& name : policy.bpf_wire.declared) {
        counters += (counters.empty() ? "" : ", ") + name;
    }
    return "counters " + counters +
           " count merged packets (TCP this host sends as segmentation-offload packets, and what "
           "a device with GRO merged), fewer packets and header bytes than the wire carried: "
           "the BPF program that corrects them could not be attached: " +
           reason + " (docs/counting.md)";
}

// `via` names that match no device in the target namespace: a typo (eht0) loads cleanly and
// counts nothing forever, a device created later (a VPN's tun0) is fine. One line per device.
std::vector<std::string> missing_devices(const CompiledPolicy& policy,
                                         const KernelOptions& values) {
    std::vector<std::string> lines;
    if (policy.devices.empty()) {
        return lines;
    }
    const auto present = runtime::network_devices(values.netns);
    for (const auto& use : policy.devices) {
        if (runtime::names_a_device(use.device, present)) {
            continue;
        }
        std::string users;
        for (const auto& user : use.users) {
            users += (users.empty() ? "" : ", ") + user.name + " (" + user.origin + ")";
        }
        lines.push_back((use.device.back() == '*' ? "no device matches '" + use.device + "'"
                                                  : "device '" + use.device + "' does not exist") +
                        where(values) + ": " + users +
                        " will count nothing through it until it appears");
    }
    return lines;
}

int run_apply(const std::vector<std::string>& args) {
    std::string path;
    bool dry_run = false;
    bool strict = false;
    KernelOptions values;
    std::string state_dir;
    po::options_description options("options");
    options.add_options()("dry-run,n", po::bool_switch(&dry_run),
                          "check the transaction in the kernel without committing it")(
        "strict", po::bool_switch(&strict),
        "refuse to load when a `via` device does not exist (yet) in the namespace")(
        "policy", po::value(&path)->required(),
        "policy file, a NAME in the policy directories, or - for standard input");
    add_kernel_options(options, values);
    add_state_dir_option(options, state_dir);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(args,
                            "acctc apply [--dry-run] [--strict] [--netns NAME] [--backend NAME] "
                            "[--state-dir DIR] POLICY",
                            options, positional, map)) {
        return exit_ok;
    }
    auto loaded = compile_for_kernel(path, values);
    if (!loaded) {
        return exit_policy_error;
    }
    CompiledPolicy& policy = loaded->compiled;
    const auto missing = missing_devices(policy, values);
    for (const auto& line : missing) {
        std::cerr << "acctc apply: " << (strict ? "error: " : "notice: ") << line << "\n";
    }
    if (strict && !missing.empty()) {
        std::cerr << "acctc apply: nothing loaded (--strict)\n";
        return exit_policy_error;
    }
    try {
        const auto backend = runtime::make_backend(loaded->backend, values.netns);
        // What the counters hold goes into the period totals first, so a reload (or the table
        // created anew after a flush) loses nothing from them.
        const auto kept = dry_run ? std::nullopt : totals_to_keep(state_dir, values, "apply");
        if (kept) {
            save_before_change(*kept, values, policy.policy_name, "apply");
            policy.quota_starts = quota_starts_from_totals(*kept, policy, "apply");
        }
        const auto report = backend->apply(policy, dry_run);
        if (kept) {
            try {
                recording::book_apply(kept->store, kept->lock, policy.policy_name, loaded->backend,
                                      report, periods::now());
            } catch (const std::exception& error) {
                std::cerr << "acctc apply: warning: period totals: " << error.what() << "\n";
            }
        }
        print_report(report, policy, loaded->backend, values);
        for (const auto& note : runtime::receive_offload_notes(policy, values.netns)) {
            std::cout << note << "\n";
        }
        if (report.wire_fallback) {
            std::cout << "note: " << wire_fallback_note(policy, *report.wire_fallback) << "\n";
        }
        if (!dry_run) {
            // The same policy left in another backend counts every packet a second time, and
            // `counters` lists both copies under the same names.
            for (const auto other :
                 runtime::remembered_backends(values.netns, policy.policy_name)) {
                if (other != loaded->backend) {
                    std::cerr << "acctc apply: warning: policy " << policy.policy_name
                              << " was also applied" << where(values) << " with "
                              << runtime::applied_label(values.netns, other, policy.policy_name)
                              << ": both count every packet, and counters lists both; remove "
                                 "that one with: acctc remove --backend "
                              << runtime::backend_info(other).name << " " << policy.policy_name
                              << "\n";
                }
            }
            runtime::remember_applied(
                values.netns, values.backend.empty() ? loaded->backend : given_spelling(values),
                policy.policy_name);
        }
    } catch (const runtime::RuntimeError& error) {
        if (error.kind() != runtime::ErrorKind::rejected) {
            throw;
        }
        // "file:line: error: ..." lines: positioned on the policy's lines as the compiler's own
        // diagnostics are. The transaction failed whole: nothing was applied.
        std::cerr << positioned_refusal(error.what(), loaded->source);
        return exit_policy_error;
    }
    return exit_ok;
}

const CommandRegistration registration{
    {"apply", "load a policy into the kernel (atomic, counters kept)", &run_apply}};

} // namespace
} // namespace acctc::cli
