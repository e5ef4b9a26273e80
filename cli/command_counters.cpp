// acctc counters: list counters as a table, JSON or Prometheus text; reset atomically; watch.
#include "acctc/recording/graph_selection.hpp"
#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counter_report.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/exposition.hpp"
#include "acctc/runtime/host_selection.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "totals.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

constexpr double max_watch_seconds = 86400; // a day; more would overflow sleep_for's clock

struct CountersOptions {
    std::string policy;
    std::vector<std::string> selectors; // COUNTER arguments: names or family prefixes
    bool exact = false;
    bool json = false;
    bool prometheus = false;
    bool reset = false;
    double watch = 0;
    int count = 0;
    // Selection (per-host counters above all): which hosts, in which order, how many.
    std::vector<std::string> hosts;
    std::string sort;
    std::size_t top = 0;
    std::size_t max_hosts = runtime::default_max_host_series;
    KernelOptions kernel;
    std::string state_dir;
};

// The readings, zeroed with --reset: then what the reset zeroes is booked into the period totals
// first (when they are kept), so a reset loses nothing from them. Without a policy named, with
// the policies that counted nothing.
runtime::EveryPolicyRead read(const runtime::CounterSource& source, const std::string& policy,
                              const CountersOptions& values) {
    if (values.reset) {
        return reset_keeping_totals(source, policy, values.state_dir, values.kernel, "counters");
    }
    return policy.empty() ? source.read_every() : runtime::EveryPolicyRead{source.read(policy), {}};
}

runtime::CounterSelection selection_of(const CountersOptions& values) {
    runtime::CounterSelection selection{{}, std::nullopt, std::nullopt};
    for (const auto& host : values.hosts) {
        // As the readings spell it: 2001:DB8:0:0::5 selects 2001:db8::5; a typo is an error,
        // not an empty listing.
        if (host == "overflow") {
            selection.hosts.push_back(host);
        } else if (host == "other") {
            // Not a reading: the sum --prometheus makes of the hosts past --max-hosts.
            throw UsageError("--host other: no counter reads as host 'other'; it is what "
                             "--prometheus sums past --max-hosts (drop --host to see it)");
        } else if (auto address = runtime::canonical_host_address(host)) {
            selection.hosts.push_back(std::move(*address));
        } else {
            throw UsageError("--host takes an IPv4 or IPv6 address, a MAC or overflow, not '" +
                             host + "'");
        }
    }
    if (values.sort == "bytes") {
        selection.sort = runtime::SortKey::bytes;
    } else if (values.sort == "packets") {
        selection.sort = runtime::SortKey::packets;
    } else if (!values.sort.empty()) {
        throw UsageError("--sort takes bytes or packets, not '" + values.sort + "'");
    }
    if (values.top > 0) { // 0: not given (--top 0 is refused)
        selection.top = values.top;
    }
    return selection;
}

// The wall clock now, in strftime's `format`, as UTC or local time.
std::string now_as(const char* format, bool utc) {
    return format_time(std::time(nullptr), format, utc);
}

std::string given(double value) {
    std::ostringstream text;
    text << value;
    return text.str();
}

// The readings the COUNTER arguments select: a counter by its name, every counter of a family
// by the family's name, or by a name prefix (skype keeps skype_tcp_in) as `graph` selects. All
// without arguments; a selector that matches nothing is an error listing what exists.
std::vector<runtime::CounterReading> selected(std::vector<runtime::CounterReading> readings,
                                              const std::vector<std::string>& selectors) {
    if (selectors.empty()) {
        return readings;
    }
    std::vector<std::string> names;
    std::vector<std::string> by_prefix; // selectors that name no family
    for (const auto& reading : readings) {
        names.push_back(reading.sample.counter);
    }
    // A per-host counter is one reading per host: its name once, in the error's list too.
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    auto is_family = [&](const std::string& selector) {
        return std::any_of(readings.begin(), readings.end(), [&](const auto& reading) {
            return reading.sample.family_or_name() == selector;
        });
    };
    std::copy_if(selectors.begin(), selectors.end(), std::back_inserter(by_prefix),
                 [&](const std::string& selector) { return !is_family(selector); });
    std::vector<std::string> keep;
    for (const auto& selector : by_prefix) {
        try {
            const auto more = recording::select_counters(names, {selector});
            keep.insert(keep.end(), more.begin(), more.end());
        } catch (const std::invalid_argument&) {
            std::string existing;
            for (const auto& name : names) {
                existing += (existing.empty() ? "" : ", ") + name;
            }
            throw std::runtime_error("no counter or family '" + selector +
                                     "' (counters: " + existing + ")");
        }
    }
    std::erase_if(readings, [&](const runtime::CounterReading& reading) {
        const auto& family = reading.sample.family_or_name();
        return std::find(selectors.begin(), selectors.end(), family) == selectors.end() &&
               std::find(keep.begin(), keep.end(), reading.sample.counter) == keep.end();
    });
    return readings;
}

// --host on readings with no per-host counter can select nothing, ever: an error, as a COUNTER
// that matches nothing is. A host the per-host counters have no reading of (yet) is a note: it
// has sent nothing they counted, which is a count of zero, not a mistake.
void check_hosts_selectable(const std::vector<runtime::CounterReading>& readings,
                            const std::vector<std::string>& hosts, const std::string& which) {
    if (hosts.empty()) {
        return;
    }
    const auto has_host = [&](const std::string& host) {
        return std::any_of(readings.begin(), readings.end(), [&](const auto& reading) {
            return host.empty() ? !reading.sample.label(Dimension::host).empty()
                                : reading.sample.label(Dimension::host) == host;
        });
    };
    if (!has_host({})) {
        throw std::runtime_error("--host " + hosts.front() + ": no counter " + which +
                                 " counts per host (split host), so --host selects nothing");
    }
    for (const auto& host : hosts) {
        if (!has_host(host)) {
            std::cerr << "acctc counters: note: no per-host counter has a reading of " << host
                      << " (nothing of it counted yet)\n";
        }
    }
}

// One line of `--watch --json`; seconds is null for the values counted before the watch.
void print_json_line(const CountersOptions& values, nlohmann::json seconds,
                     nlohmann::json counters) {
    std::cout << nlohmann::json{{"time", now_as("%FT%TZ", true)},
                                {"netns", values.kernel.netns},
                                {"reset", values.reset},
                                {"seconds", std::move(seconds)},
                                {"counters", std::move(counters)}}
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n"
              << std::flush;
}

// What a watch of every policy cannot read (a policy flushed, or half-loaded): said on standard
// error when it goes and when it counts again, as `counters` without --watch says it each time;
// the readings of the others go on.
void say_unloaded(ComingAndGoing& unloaded, const std::vector<runtime::AppliedPolicy>& now,
                  const std::string& netns) {
    std::map<std::string, const runtime::AppliedPolicy*> by_key; // "backend policy"
    for (const auto& gone : now) {
        by_key.emplace(std::string(runtime::backend_info(gone.backend).name) + " " + gone.policy,
                       &gone);
    }
    std::set<std::string> keys;
    for (const auto& [key, policy] : by_key) {
        keys.insert(key);
    }
    const auto change = unloaded.update(std::move(keys));
    for (const auto& key : change.came) {
        std::cerr << "acctc counters: " << runtime::not_loaded_message(*by_key.at(key), netns)
                  << "\n";
    }
    for (const auto& key : change.went) {
        std::cerr << "acctc counters: policy " << key.substr(key.find(' ') + 1)
                  << " is read again (" << key.substr(0, key.find(' ')) << ")\n";
    }
}

// Every SECONDS: a table with rates (redrawn on a terminal), or one JSON object per line. With
// --reset each interval is read and zeroed at once, so each block holds exactly what that
// interval counted; the values counted before the first interval are printed first.
int watch(const runtime::CounterSource& source, const std::string& policy,
          const CountersOptions& values) {
    const bool terminal = ::isatty(STDOUT_FILENO) != 0 && !values.json;
    const auto interval = std::chrono::duration<double>(values.watch);
    ComingAndGoing unloaded;
    auto first = read(source, policy, values);
    say_unloaded(unloaded, first.unloaded, values.kernel.netns);
    auto previous = selected(std::move(first.readings), values.selectors);
    auto previous_time = std::chrono::steady_clock::now();
    if (values.reset) {
        if (values.json) {
            print_json_line(values, nullptr, runtime::counters_to_json(previous));
        } else {
            std::cout << runtime::format_counter_table(previous, values.exact) << "(reset to zero"
                      << where(values.kernel) << ")\n\n"
                      << std::flush;
        }
        previous.clear(); // zeroed: every later value is what one interval counted
    }
    for (int round = 0; values.count == 0 || round < values.count; ++round) {
        std::this_thread::sleep_for(interval);
        auto next = read(source, policy, values);
        say_unloaded(unloaded, next.unloaded, values.kernel.netns);
        auto current = selected(std::move(next.readings), values.selectors);
        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - previous_time).count();
        if (values.json) {
            print_json_line(values, seconds, runtime::rates_to_json(previous, current, seconds));
        } else {
            // On a terminal redraw in place; into a pipe or file append one block per interval.
            std::cout << (terminal ? "\033[H\033[2J" : "") << now_as("%F %T", false) << "  every "
                      << values.watch << "s" << (values.reset ? ", reset each time" : "")
                      << where(values.kernel) << "\n"
                      << runtime::format_rate_table(previous, current, seconds, values.exact)
                      << (terminal ? "" : "\n") << std::flush;
        }
        previous = values.reset ? std::vector<runtime::CounterReading>{} : std::move(current);
        previous_time = now;
    }
    return exit_ok;
}

int run_counters(const std::vector<std::string>& args) {
    CountersOptions values;
    po::options_description options("options");
    options.add_options()("exact,x", po::bool_switch(&values.exact),
                          "exact numbers instead of human units")(
        "json", po::bool_switch(&values.json),
        "print JSON")("prometheus", po::bool_switch(&values.prometheus),
                      "print the Prometheus text exposition format")(
        "reset", po::bool_switch(&values.reset), "zero the counters, atomically with listing them")(
        "watch", po::value(&values.watch),
        "every SECONDS: a table with packet and bit rates, or with --json one JSON line; "
        "with --reset each interval is zeroed")("count", po::value(&values.count),
                                                "with --watch, stop after N updates")(
        "host", po::value(&values.hosts)->composing(),
        "only the per-host counters of this address (repeatable)")(
        "sort", po::value(&values.sort), "bytes or packets: the largest first")(
        "top", po::value(&values.top), "only the first N after sorting")(
        "max-hosts", po::value(&values.max_hosts)->default_value(values.max_hosts),
        "with --prometheus, at most N hosts per counter; the rest summed as host=\"other\"")(
        "policy", po::value(&values.policy), "policy name or file; all acctc policies if absent")(
        "counter", po::value(&values.selectors),
        "counters to show: names, or family prefixes (skype keeps skype_tcp_in)");
    add_kernel_options(options, values.kernel);
    add_state_dir_option(options, values.state_dir);
    po::positional_options_description positional;
    positional.add("policy", 1).add("counter", -1);
    po::variables_map map;
    if (!parse_command_line(
            args,
            "acctc counters [POLICY [COUNTER...]] [--backend NAME] [-x] [--json | --prometheus] "
            "[--reset] [--host ADDRESS]... [--sort bytes|packets] [--top N] [--max-hosts N] "
            "[--watch SECONDS [--count N]] [--netns NAME]",
            options, positional, map)) {
        return exit_ok;
    }
    if (values.json && values.prometheus) {
        throw UsageError("--json and --prometheus exclude each other");
    }
    if (map.count("watch") != 0U && !(values.watch > 0 && values.watch <= max_watch_seconds)) {
        throw UsageError("--watch takes a number of seconds above 0 and at most " +
                         std::to_string(static_cast<int>(max_watch_seconds)) +
                         " (e.g. --watch 1 or --watch 0.5), not " + given(values.watch));
    }
    if (map.count("count") != 0U && values.count < 1) {
        throw UsageError("--count takes a number of updates of 1 or more, not " +
                         std::to_string(values.count));
    }
    if (map.count("watch") != 0U && values.prometheus) {
        throw UsageError("--watch does not go with --prometheus: let Prometheus scrape `acctc "
                         "serve` instead");
    }
    if (map.count("top") != 0U && values.top == 0) {
        throw UsageError("--top takes a number of rows of 1 or more, not 0");
    }
    if (values.reset && !values.selectors.empty()) {
        throw UsageError("--reset zeroes every counter of the policy at once, so it takes no "
                         "COUNTER arguments");
    }
    const runtime::CounterSelection selection = selection_of(values);
    const bool selecting =
        !values.hosts.empty() || selection.sort.has_value() || selection.top.has_value();
    if (selecting && map.count("watch") != 0U) {
        throw UsageError("--host, --sort and --top do not apply to --watch yet");
    }
    if (selecting && values.reset) {
        // A reset zeroes every counter of the policy: showing some would lose the others.
        throw UsageError("--reset zeroes every counter; it does not combine with --host, --sort "
                         "or --top");
    }
    std::string policy;
    if (!values.policy.empty()) {
        const auto name = policy_name_of(values.policy, values.kernel);
        if (!name) {
            return exit_policy_error;
        }
        policy = *name;
    }
    // The backend named, else those acctc remembers applying the policies with here.
    const runtime::CounterSource source(values.kernel.netns, given_backend(values.kernel));
    if (values.watch > 0) {
        return watch(source, policy, values);
    }
    auto read_now = read(source, policy, values);
    auto all = selected(std::move(read_now.readings), values.selectors);
    check_hosts_selectable(all, selection.hosts,
                           !values.selectors.empty() ? "selected"
                           : policy.empty()          ? "read" + where(values.kernel)
                                                     : "of policy " + policy);
    // Without a policy named, "all of them" must not quietly shrink to fewer after a flush.
    const auto& unloaded = read_now.unloaded;
    // Moved, not copied: 100,000 readings with their strings.
    const auto readings = runtime::select_readings(std::move(all), selection);
    for (const auto& gone : unloaded) {
        std::cerr << "acctc counters: " << runtime::not_loaded_message(gone, values.kernel.netns)
                  << "\n";
    }
    if (values.json) {
        std::cout << nlohmann::json{{"time", now_as("%FT%TZ", true)},
                                    {"netns", values.kernel.netns},
                                    {"reset", values.reset},
                                    {"counters", runtime::counters_to_json(readings)}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    } else if (values.prometheus) {
        std::cout << runtime::format_prometheus(samples_of(readings), values.max_hosts);
    } else {
        std::cout << runtime::format_counter_table(readings, values.exact);
        if (values.reset) {
            std::cout << "(reset to zero" << where(values.kernel) << ")\n";
        }
    }
    return unloaded.empty() ? exit_ok : exit_policy_error;
}

const CommandRegistration registration{
    {"counters", "list, export, reset or watch counters in the kernel", &run_counters}};

} // namespace
} // namespace acctc::cli
