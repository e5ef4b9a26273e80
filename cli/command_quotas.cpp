// acctc quotas: each quota's use against its budget, with an exit status for scripts
// (0 under the warning level, 1 over it, 3 spent); --reset zeroes them; --watch is the daemon
// that logs the kernel's depletion events and starts each new period (docs/runtime.md).
#include "acctc/recording/state_store.hpp"
#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/exposition.hpp"
#include "acctc/runtime/netns.hpp"
#include "acctc/runtime/periods.hpp"
#include "acctc/runtime/quotas.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "service.hpp"
#include "totals.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <poll.h>
#include <set>
#include <tuple>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

constexpr int exit_unknown = 2; // a policy named that holds no quota, or the kernel unreadable

struct QuotasOptions {
    std::string policy;
    bool exact = false;
    bool json = false;
    bool prometheus = false;
    bool reset = false;
    bool watch = false;
    std::string state_dir; // empty: $ACCTC_STATE_DIR, else /var/lib/acctc
    KernelOptions kernel;
};

periods::Period period_of(const QuotaIdentity& identity, std::chrono::sys_seconds at) {
    return runtime::quota_period(identity.period, identity.start_day, at);
}

// The watcher's memory: per quota, the start of the period its objects count (a file under
// STATE_DIR/quotas/, so a restart and a missed boundary are both seen) and what was announced.
class Watcher {
  public:
    Watcher(const QuotasOptions& options) : options_(options) {
        dir_ =
            recording::state_dir(options.state_dir) / "quotas" /
            (options.kernel.netns.empty() ? std::string("host") : "netns-" + options.kernel.netns);
    }

    // Starts new periods where one began since the quota's recorded one; learns new quotas.
    void roll_over(const std::vector<runtime::QuotaReading>& readings) {
        const auto now = periods::now();
        std::set<std::pair<std::string, std::string>> reset;
        for (const auto& reading : readings) {
            const Key key{reading.policy, reading.quota, reading.host};
            if (reset.count({reading.policy, reading.quota}) != 0) {
                continue; // its other hosts, reset with the first
            }
            const periods::Period current = period_of(reading.identity, now);
            const fs::path file = dir_ / reading.policy / (reading.quota + ".period");
            const auto recorded = read_begin(file);
            if (!recorded) {
                write_begin(file, current.begin); // first sight: it counts the current period
            } else if (*recorded < current.begin) {
                const auto held = runtime::reset_quota(reading.policy, reading.quota);
                write_begin(file, current.begin);
                reset.insert({reading.policy, reading.quota});
                log_line(LogPriority::notice,
                         "acctc quotas: quota " + reading.quota + " of policy " + reading.policy +
                             ": the period from " + periods::local_text(*recorded) +
                             " ended with " + ended_text(held) + " bytes used of " +
                             std::to_string(reading.limit) + (reading.per_host ? " each" : "") +
                             "; reset for the period from " + periods::local_text(current.begin));
                for (auto it = announced_.begin(); it != announced_.end();) {
                    const bool same = std::get<0>(it->first) == reading.policy &&
                                      std::get<1>(it->first) == reading.quota;
                    it = same ? announced_.erase(it) : std::next(it);
                }
                announced_[key] = runtime::QuotaState::under;
                continue;
            }
            // A clock that went back leaves the recorded (later) period in force until the
            // clock passes its end: never a second reset of one period.
            if (const auto known = announced_.find(key);
                known != announced_.end() && reading.state() < known->second) {
                known->second = reading.state(); // a larger budget, or reset by hand
            }
            if (announced_.count(key) == 0) {
                announced_[key] = reading.state();
                if (reading.state() != runtime::QuotaState::under) {
                    announce(reading, reading.state(), started_ ? "" : " (already at start)");
                }
            } else if (const auto level = std::min(reading.state(), reading.polled);
                       level > announced_[key]) {
                // Levels the kernel sends no event for (a set element's, an nfacct object's
                // warning level) are seen by polling.
                announced_[key] = level;
                announce(reading, level, "");
            }
        }
        started_ = true;
    }

    // How often quotas with polled levels are read: the kernel tells of no set element spent,
    // nor of an nfacct object passing its warning level.
    static constexpr double poll_seconds = 1;

    // One kernel event: a quota object spent.
    void on_event(const runtime::QuotaEvent& event,
                  const std::vector<runtime::QuotaReading>& known) {
        if (!event.depleted || (!options_.policy.empty() && event.policy != options_.policy)) {
            return; // created or reset objects are announced too; only depletion matters
        }
        for (const auto& other : known) {
            if (other.policy == event.policy && other.quota == event.identity.quota &&
                other.polled == runtime::QuotaState::exhausted) {
                return; // its levels are read from its use (a corrected quota): roll_over
            }
        }
        const auto level = event.identity.role == QuotaRole::warn ? runtime::QuotaState::warning
                                                                  : runtime::QuotaState::exhausted;
        auto& announced = announced_[{event.policy, event.identity.quota, ""}];
        if (announced >= level) {
            return; // a reload re-arms the kernel's flag; once per period is enough
        }
        announced = level;
        runtime::QuotaReading reading;
        reading.policy = event.policy;
        reading.quota = event.identity.quota;
        reading.identity = event.identity;
        reading.used = event.consumed;
        reading.limit = event.bytes;
        for (const auto& other : known) {
            if (other.policy == event.policy && other.quota == event.identity.quota) {
                reading.limit = other.limit;
            }
        }
        announce(reading, level, "");
    }

    // Seconds until the next period of any quota begins.
    double until_next_period(const std::vector<runtime::QuotaReading>& readings) const {
        const auto now = periods::now();
        double seconds = 60;
        for (const auto& reading : readings) {
            if (reading.polled != runtime::QuotaState::under) {
                seconds = std::min(seconds, poll_seconds);
            }
            const auto end = period_of(reading.identity, now).end;
            seconds = std::min(seconds, static_cast<double>((end - now).count()));
        }
        return std::max(seconds, 0.05);
    }

  private:
    const QuotasOptions& options_;
    fs::path dir_;
    using Key = std::tuple<std::string, std::string, std::string>; // policy, quota, host
    std::map<Key, runtime::QuotaState> announced_;
    bool started_ = false; // past the first roll_over: hosts seen later are new, not old news

    static std::string ended_text(const std::vector<runtime::QuotaReading>& held) {
        if (held.empty()) {
            return "?";
        }
        if (!held.front().per_host) {
            return std::to_string(held.front().used);
        }
        std::uint64_t most = 0;
        std::size_t hosts = 0;
        for (const auto& host : held) {
            most = std::max(most, host.used);
            hosts += host.host.empty() ? 0 : 1;
        }
        return std::to_string(hosts) + " host(s), the most " + std::to_string(most);
    }

    static std::optional<std::chrono::sys_seconds> read_begin(const fs::path& file) {
        std::ifstream in(file);
        std::int64_t seconds = 0;
        if (in >> seconds) {
            return std::chrono::sys_seconds(std::chrono::seconds(seconds));
        }
        return std::nullopt;
    }
    static void write_begin(const fs::path& file, std::chrono::sys_seconds begin) {
        fs::create_directories(file.parent_path());
        const fs::path temporary = file.string() + ".tmp";
        {
            std::ofstream out(temporary, std::ios::trunc);
            out << begin.time_since_epoch().count() << "\n";
            if (!out.flush()) {
                throw std::runtime_error("cannot write " + temporary.string());
            }
        }
        fs::rename(temporary, file); // atomically: a crash leaves the old period or the new
    }
    // The kernel reports a spent object's use as its size (it caps what it shows there), so
    // the line names the threshold crossed.
    void announce(const runtime::QuotaReading& reading, runtime::QuotaState level,
                  const std::string& note) {
        const std::string& policy = reading.policy;
        const std::string quota =
            reading.quota + (reading.host.empty() ? "" : " for host " + reading.host);
        const QuotaIdentity& identity = reading.identity;
        const std::uint64_t used = reading.used;
        const std::uint64_t limit = reading.limit;
        const bool spent = level == runtime::QuotaState::exhausted;
        const double percent = limit ? 100.0 * static_cast<double>(used) / limit : 0;
        char share[32];
        std::snprintf(share, sizeof share, "%.0f", percent);
        const std::string period(period_name(identity.period));
        log_line(spent ? LogPriority::error : LogPriority::warning,
                 "acctc quotas: quota " + quota + " of policy " + policy +
                     (spent ? " is spent: all " + std::to_string(limit) + " bytes of this " +
                                  period + " used" +
                                  (identity.drop ? "; dropping what it counts" : "; not enforced")
                            : " passed its warning level: " + std::to_string(used) +
                                  " bytes used, " + share + " % of its " + std::to_string(limit) +
                                  " bytes per " + period) +
                     note);
    }
};

std::atomic<bool> stopping{false};

// The quotas of policies whose apply stopped between the two steps of a new table are there, at
// zero, counting nothing: each such policy is named with its remedy (as counters does), and the
// caller exits 1 instead of listing or watching them as if they counted. True when there were.
bool said_unfinished(const runtime::QuotasRead& read, const KernelOptions& kernel) {
    for (const auto& policy : read.unfinished) {
        log_line(LogPriority::error,
                 "acctc quotas: " +
                     runtime::not_loaded_message({runtime::BackendKind::nftables, policy, true},
                                                 kernel.netns));
    }
    return !read.unfinished.empty();
}

// Quotas over counters corrected for merged packets: their kernel budgets follow the
// correction, every poll (they read as polled, so the watcher wakes every second).
void track(const std::string& policy) {
    try {
        runtime::lower_wire_quota_budgets(policy);
    } catch (const std::exception& error) {
        log_line(LogPriority::warning, std::string("acctc quotas: ") + error.what());
    }
}

// The watcher's view of half-loaded policies: each logged when it is found and when an apply
// makes it whole again; the other policies' quotas are watched on meanwhile.
void log_unfinished(ComingAndGoing& unfinished, const runtime::QuotasRead& read,
                    const KernelOptions& kernel) {
    const auto change = unfinished.update({read.unfinished.begin(), read.unfinished.end()});
    for (const auto& policy : change.came) {
        log_line(LogPriority::error,
                 "acctc quotas: " +
                     runtime::not_loaded_message({runtime::BackendKind::nftables, policy, true},
                                                 kernel.netns) +
                     "; its quotas are not watched until then");
    }
    for (const auto& policy : change.went) {
        log_line(LogPriority::notice,
                 "acctc quotas: policy " + policy + " counts again: its quotas are watched");
    }
}

int watch(const QuotasOptions& options) {
    const runtime::NetnsScope scope(options.kernel.netns);
    // Subscribed before the first read, so no depletion falls between the two.
    runtime::QuotaEvents events;
    Watcher watcher(options);
    track(options.policy);
    auto read = runtime::read_quotas_noting_unfinished(options.policy);
    // The policy watched by name counts nothing: nothing to watch, the unit fails saying why.
    if (!options.policy.empty() && said_unfinished(read, options.kernel)) {
        return exit_policy_error;
    }
    ComingAndGoing unfinished;
    log_unfinished(unfinished, read, options.kernel);
    auto readings = std::move(read.readings);
    watcher.roll_over(readings);
    std::signal(SIGTERM, [](int) { stopping = true; });
    std::signal(SIGINT, [](int) { stopping = true; });
    log_line(LogPriority::info, "acctc quotas: watching " + std::to_string(readings.size()) +
                                    " quota(s)" + where(options.kernel));
    notify_service_manager("READY=1\nSTATUS=watching quotas");
    while (!stopping) {
        pollfd fd{events.fd(), POLLIN, 0};
        const int timeout = static_cast<int>(watcher.until_next_period(readings) * 1000) + 1;
        const int ready = ::poll(&fd, 1, timeout);
        if (ready > 0) {
            try {
                for (const auto& event : events.receive()) {
                    watcher.on_event(event, readings);
                }
            } catch (const std::exception& error) {
                // Events lost (a burst of ruleset changes): the quotas' state says the rest.
                log_line(LogPriority::notice, std::string("acctc quotas: ") + error.what());
                for (const auto& reading : runtime::read_quotas(options.policy)) {
                    if (reading.polled == runtime::QuotaState::exhausted) {
                        continue; // polled: roll_over announces them
                    }
                    runtime::QuotaEvent event{reading.policy, reading.quota, reading.identity,
                                              reading.limit,  reading.used,  true};
                    if (reading.state() == runtime::QuotaState::warning) {
                        event.identity.role = QuotaRole::warn;
                    }
                    if (reading.state() != runtime::QuotaState::under) {
                        watcher.on_event(event, readings);
                    }
                }
            }
        }
        track(options.policy);
        read = runtime::read_quotas_noting_unfinished(options.policy);
        if (!options.policy.empty() && said_unfinished(read, options.kernel)) {
            // The policy watched, its apply killed while watching: the service fails saying why.
            notify_service_manager("STOPPING=1");
            return exit_policy_error;
        }
        log_unfinished(unfinished, read, options.kernel);
        readings = std::move(read.readings);
        watcher.roll_over(readings);
    }
    notify_service_manager("STOPPING=1");
    log_line(LogPriority::info, "acctc quotas: stopped");
    return exit_ok;
}

int run_quotas(const std::vector<std::string>& args) {
    QuotasOptions values;
    po::options_description options("options");
    options.add_options()("exact,x", po::bool_switch(&values.exact),
                          "exact numbers instead of human units")(
        "json", po::bool_switch(&values.json),
        "print JSON")("prometheus", po::bool_switch(&values.prometheus),
                      "print acctc_quota_* gauges in the Prometheus text format")(
        "reset", po::bool_switch(&values.reset),
        "zero the policy's quotas (a new period by hand), printing what they held")(
        "watch", po::bool_switch(&values.watch),
        "run until stopped: log when a quota passes its warning level and when it is spent "
        "(the kernel's events), and reset each quota when its next period begins")(
        "state-dir", po::value(&values.state_dir),
        "with --watch: where the period each quota counts is kept; with --reset: the period "
        "totals that record the reset (default $ACCTC_STATE_DIR, else /var/lib/acctc)")(
        "policy", po::value(&values.policy), "policy name or file; all acctc policies if absent");
    add_kernel_options(options, values.kernel);
    po::positional_options_description positional;
    positional.add("policy", 1);
    po::variables_map map;
    if (!parse_command_line(args,
                            "acctc quotas [POLICY] [-x] [--json | --prometheus] [--reset] "
                            "[--watch] [--state-dir DIR] [--netns NAME]",
                            options, positional, map)) {
        return exit_ok;
    }
    if (values.json && values.prometheus) {
        throw UsageError("--json and --prometheus exclude each other");
    }
    if (values.watch && (values.json || values.prometheus || values.reset)) {
        throw UsageError("--watch logs events; it does not combine with --json, --prometheus "
                         "or --reset");
    }
    if (!values.policy.empty()) {
        const auto name = policy_name_of(values.policy, values.kernel);
        if (!name) {
            return exit_policy_error;
        }
        values.policy = *name;
    }
    if (values.reset && values.policy.empty()) {
        throw UsageError("--reset starts a new period of one policy's quotas: name the POLICY");
    }
    if (values.watch) {
        return watch(values);
    }
    std::vector<runtime::QuotaReading> readings;
    // A reset by hand books the counters first and is recorded with the period totals, so a
    // quota created anew later this period (a flush, a reboot) does not come back with what the
    // reset took away (docs/periods.md, "Quotas after a flush").
    const auto kept =
        values.reset ? totals_to_keep(values.state_dir, values.kernel, "quotas") : std::nullopt;
    if (kept) {
        save_before_change(*kept, values.kernel, values.policy, "quotas");
    }
    bool unfinished = false;
    {
        const runtime::NetnsScope scope(values.kernel.netns);
        auto read = runtime::read_quotas_noting_unfinished(values.policy);
        unfinished = said_unfinished(read, values.kernel);
        if (unfinished && !values.policy.empty()) {
            return exit_policy_error; // nothing else to list, nor to reset
        }
        readings = std::move(read.readings);
        if (values.reset) {
            // What each quota held as it was zeroed (a per-host quota: each of its hosts).
            std::vector<runtime::QuotaReading> held;
            std::set<std::string> done;
            for (const auto& reading : readings) {
                if (done.insert(reading.quota).second) {
                    auto quota = runtime::reset_quota(reading.policy, reading.quota);
                    held.insert(held.end(), quota.begin(), quota.end());
                }
            }
            readings = std::move(held);
        }
    }
    if (kept && !readings.empty()) {
        mark_quota_resets(*kept, values.policy, readings);
    }
    if (readings.empty() && !values.policy.empty()) {
        std::cerr << "acctc quotas: policy " << values.policy << " has no quotas loaded"
                  << where(values.kernel) << "\n";
        return exit_unknown;
    }
    if (values.json) {
        std::cout << nlohmann::json{{"netns", values.kernel.netns},
                                    {"reset", values.reset},
                                    {"quotas", runtime::quotas_to_json(readings)}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    } else if (values.prometheus) {
        std::cout << runtime::format_quota_prometheus(readings);
    } else {
        std::cout << runtime::format_quota_table(readings, values.exact);
        if (values.reset) {
            std::cout << "(reset to zero" << where(values.kernel) << ")\n";
        }
    }
    // After a reset every quota is at zero, under its warning level: the status answers for
    // the quotas as they are now, not for what they held. A policy counting nothing is at least
    // an error (1); a spent quota elsewhere still says 3.
    const int status = values.reset ? exit_ok : runtime::quota_exit_status(readings);
    return unfinished ? std::max(status, exit_policy_error) : status;
}

const CommandRegistration registration{
    {"quotas", "each quota's use; exit 0, 1 past warning, 3 spent; --watch logs and resets",
     &run_quotas}};

} // namespace
} // namespace acctc::cli
