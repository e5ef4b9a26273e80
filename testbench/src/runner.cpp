#include "acctc/testbench/runner.hpp"

#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/testbench/cgroups.hpp"
#include "acctc/testbench/temporary_directory.hpp"
#include "acctc/testbench/traffic.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

namespace acctc::testbench {
namespace {

// The backend's name as --backend and the summary show it.
std::string name_of(BackendKind backend) {
    return std::string(runtime::backend_info(backend).name);
}

// passwd, group and services for the compiler, so `owner group skype` resolves to the
// scenario's gid without touching the host's /etc.
class EtcDirectory {
  public:
    explicit EtcDirectory(const Scenario& scenario) {
        std::ofstream group(path() / "group");
        group << "root:x:0:\n";
        for (const auto& [name, gid] : scenario.groups) {
            group << name << ":x:" << gid << ":\n";
        }
        std::ofstream passwd(path() / "passwd");
        passwd << "root:x:0:0:root:/root:/bin/sh\n";
        for (const auto& [name, ids] : scenario.users) {
            passwd << name << ":x:" << ids.first << ":" << ids.second << "::/:/bin/false\n";
        }
        std::error_code ignored;
        std::filesystem::copy_file("/etc/services", path() / "services", ignored);
    }
    const std::filesystem::path& path() const { return directory_.path(); }

  private:
    TemporaryDirectory directory_{"acctc-tb-etc"};
};

// The scenario's policy compiled for one backend, or its hand-written nft ruleset.
struct PreparedPolicy {
    std::optional<CompiledPolicy> compiled;
    std::string table; // hand-written: `table inet TABLE` holds the counters
    std::string text;  // hand-written: the ruleset
};

// The policy compiles for nft but not for this backend, or the kernel lacks a feature the
// backend needs for it (RuntimeError unsupported: an ipset type built out of the kernel): the
// scenario is skipped there.
struct BackendRejects : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string replace_all(std::string text, const std::string& marker, const std::string& value) {
    for (auto at = text.find(marker); at != std::string::npos;
         at = text.find(marker, at + value.size())) {
        text.replace(at, marker.size(), value);
    }
    return text;
}

CompileResult compile_for(const Scenario& scenario, Target target, const std::string& text) {
    EtcDirectory etc(scenario);
    CompileOptions options;
    options.target = target;
    options.etc_dir = etc.path();
    return compile_source(scenario.policy_name, text, options);
}

PreparedPolicy prepare_policy(const Scenario& scenario, BackendKind backend,
                              const RunCgroups* cgroups) {
    if (!scenario.ruleset_table.empty()) {
        return {std::nullopt, scenario.ruleset_table, scenario.policy_text};
    }
    const auto text = cgroups == nullptr
                          ? scenario.policy_text
                          : replace_all(scenario.policy_text, "@cgroup@", cgroups->relative());
    const auto target = runtime::backend_info(backend).target;
    auto result = compile_for(scenario, target, text);
    if (!result.output) {
        std::ostringstream messages;
        render_all(messages, result.source, result.diagnostics);
        if (target != Target::nft && compile_for(scenario, Target::nft, text).output) {
            throw BackendRejects("the " + name_of(backend) + " backend rejects the policy:\n" +
                                 messages.str());
        }
        throw std::runtime_error("the policy does not compile:\n" + messages.str());
    }
    return {std::move(result.output), {}, {}};
}

// `acctc apply` through the runtime library, in a child inside the namespace (the child may
// need its own mount namespace for cgroup paths; see cgroups.hpp).
void apply_policy(const NamedNetns& netns, const CompiledPolicy& policy, BackendKind backend_kind,
                  bool private_cgroup_mount) {
    auto child = ChildProcess::spawn(
        "apply " + policy.policy_name, netns, Identity{}, [&](ControlChannel& channel) {
            if (private_cgroup_mount) {
                mount_cgroup2_privately();
            }
            try {
                runtime::make_backend(backend_kind, "")->apply(policy, false);
            } catch (const runtime::RuntimeError& error) {
                if (error.kind() != runtime::ErrorKind::unsupported) {
                    throw;
                }
                channel.send("unsupported");
                channel.send(error.what());
                return;
            }
            channel.send("applied");
        });
    std::string answer;
    while (auto line = child.channel().receive(std::chrono::seconds(30))) {
        answer += (answer.empty() ? "" : "\n") + *line;
    }
    const int status = child.wait(std::chrono::seconds(5));
    if (answer.starts_with("unsupported\n")) {
        throw BackendRejects("this kernel cannot run the policy on the " + name_of(backend_kind) +
                             " backend:\n" + answer.substr(answer.find('\n') + 1));
    }
    if (status != 0 || answer != "applied") {
        throw std::runtime_error("applying the policy in " + netns.name() + " failed:\n" + answer);
    }
}

std::map<std::string, CounterValue> read_policy_counters(const NamedNetns& netns,
                                                         const PreparedPolicy& policy,
                                                         BackendKind backend_kind) {
    if (!policy.compiled) {
        return read_counters(netns, policy.table);
    }
    std::map<std::string, CounterValue> counters;
    for (const auto& reading : runtime::make_backend(backend_kind, netns.name())
                                   ->counters(policy.compiled->policy_name, false)) {
        // A host of a `split host` counter is COUNTER@HOST (docs/testbench.md).
        const bool per_host = reading.sample.per_host();
        counters[reading.sample.counter + (per_host ? "@" + reading.sample.label(Dimension::host)
                                                    : "")] = {reading.sample.packets,
                                                              reading.sample.bytes};
    }
    return counters;
}

const FlowReport* find_flow(const std::vector<FlowReport>& flows, const std::string& name) {
    for (const auto& flow : flows) {
        if (flow.name == name) {
            return &flow;
        }
    }
    return nullptr;
}

CounterValue as_counter(const Traffic& traffic) {
    return {traffic.packets, traffic.bytes};
}

CounterValue& operator+=(CounterValue& sum, const CounterValue& more) {
    sum.packets += more.packets;
    sum.bytes += more.bytes;
    return sum;
}

// The first capture point that saw any of the tuples: a flow crossing several links is seen
// the same on each, one that crosses none of them is captured as zero.
CaptureTally captured_flow(const std::vector<CaptureReport>& captures, int protocol,
                           const std::vector<FlowTuple>& tuples) {
    for (const auto& capture : captures) {
        const auto tally = capture.sum(protocol, tuples);
        if (tally.wire.packets != 0) {
            return tally;
        }
    }
    return {};
}

CounterCheck check_expectation(const Expectation& expectation, const std::vector<FlowReport>& flows,
                               const std::vector<CaptureReport>& captured) {
    CounterCheck check;
    check.counter = expectation.counter;
    check.merged_header = expectation.merged_header;
    bool only_flows = !expectation.terms.empty();
    CounterValue capture_sum;
    for (const auto& term : expectation.terms) {
        if (term.flow.empty()) {
            check.expected += term.literal;
            only_flows = false;
            continue;
        }
        const auto* flow = find_flow(flows, term.flow);
        if (flow == nullptr) {
            continue;
        }
        const Traffic& sent = term.reply ? (term.wire ? flow->reply_wire : flow->reply_sent)
                                         : (term.wire ? flow->orig_wire : flow->orig_sent);
        check.expected += as_counter(sent);
        std::vector<FlowTuple> tuples = {flow->client_view, flow->server_view};
        if (term.reply) {
            tuples = {flow->client_view.reversed(), flow->server_view.reversed()};
        }
        const auto tally = captured_flow(captured, flow->ip_protocol, tuples);
        capture_sum += as_counter(term.wire ? tally.wire : tally.datagrams);
    }
    if (only_flows) {
        check.captured = capture_sum;
    }
    return check;
}

// Reads until two reads agree: packets still in a softirq queue when the last peer exited
// show up within a few milliseconds.
std::map<std::string, CounterValue> read_settled_counters(const NamedNetns& netns,
                                                          const PreparedPolicy& policy,
                                                          BackendKind backend_kind) {
    auto previous = read_policy_counters(netns, policy, backend_kind);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        auto current = read_policy_counters(netns, policy, backend_kind);
        if (current == previous || std::chrono::steady_clock::now() > deadline) {
            return current;
        }
        previous = std::move(current);
    }
}

std::string format(const CounterValue& value) {
    return std::to_string(value.packets) + " pkts " + std::to_string(value.bytes) + " B";
}

// A flow's `as cgroup NAME` made absolute for this run.
FlowSpec resolved(FlowSpec flow, const RunCgroups* cgroups) {
    for (auto* identity : {&flow.client_identity, &flow.server_identity}) {
        if (!identity->cgroup.empty() && cgroups != nullptr) {
            identity->cgroup = cgroups->path_of(identity->cgroup);
        }
    }
    return flow;
}

// Why the scenario does not run `flow` on `backend`, if it does not.
const FlowSkip* skip_of(const Scenario& scenario, BackendKind backend, const std::string& flow) {
    for (const auto& skip : scenario.skips) {
        if (skip.backend == runtime::backend_info(backend).name &&
            std::find(skip.flows.begin(), skip.flows.end(), flow) != skip.flows.end()) {
            return &skip;
        }
    }
    return nullptr;
}

} // namespace

// Each run is already held to its own oracle (counted == what the peers sent == capture). The
// two runs are separate traffic, though: TCP's ACK timing varies, so the same flow may be a few
// packets longer in one run. Counts must be identical across backends wherever the traffic was
// identical (same expected value), and every counter must exist on both.
void compare_backends(const ScenarioResult& first, ScenarioResult& second) {
    if (first.skipped || second.skipped) {
        return;
    }
    std::map<std::string, const CounterCheck*> by_name;
    for (const auto& check : first.checks) {
        by_name[check.counter] = &check;
    }
    for (const auto& check : second.checks) {
        const auto found = by_name.find(check.counter);
        const CounterCheck* other = found == by_name.end() ? nullptr : found->second;
        // How many segments GSO/GRO merge depends on timing, not only on the traffic.
        const bool same_traffic =
            other != nullptr && other->expected == check.expected && !check.merged_header;
        if (other == nullptr || !other->counted.has_value() != !check.counted.has_value() ||
            (same_traffic && other->counted != check.counted)) {
            second.problems.push_back(
                "counter " + check.counter + ": " + name_of(second.backend) + " counted " +
                (check.counted ? format(*check.counted) : "nothing") + ", " +
                name_of(first.backend) + " " +
                (other != nullptr && other->counted ? format(*other->counted) : "nothing") +
                " for the same traffic");
        }
    }
}

std::filesystem::path default_scenario_directory() {
    return ACCTC_SCENARIO_DIR;
}

bool CounterCheck::passed() const {
    if (!counted || (captured && *captured != expected)) {
        return false;
    }
    if (!merged_header) {
        return *counted == expected;
    }
    // Merged packets: fewer of them (at least one when anything was sent), and exactly the
    // bytes of the headers of the segments merged away fewer (docs/counting.md).
    const CounterValue& c = *counted;
    return c.packets <= expected.packets && (c.packets != 0) == (expected.packets != 0) &&
           expected.bytes - c.bytes == *merged_header * (expected.packets - c.packets);
}

bool ScenarioResult::passed() const {
    if (skipped) {
        return true;
    }
    return problems.empty() && std::all_of(checks.begin(), checks.end(),
                                           [](const auto& check) { return check.passed(); });
}

ScenarioResult run_scenario(const Scenario& scenario, BackendKind backend) {
    const auto started = std::chrono::steady_clock::now();
    ScenarioResult result;
    result.name = scenario.name;
    result.backend = backend;
    try {
        if (backend != BackendKind::nftables && !scenario.ruleset_table.empty()) {
            result.skipped = "a hand-written nft ruleset runs on nft only";
            return result;
        }
        std::optional<RunCgroups> cgroups;
        if (!scenario.cgroups.empty()) {
            cgroups.emplace(scenario.cgroups, RunPrefix::current());
        }
        const RunCgroups* run_cgroups = cgroups ? &*cgroups : nullptr;
        const auto policy = prepare_policy(scenario, backend, run_cgroups);
        Topology topology(scenario.topology, RunPrefix::current());
        for (const auto& [node, text] : scenario.node_rulesets) {
            load_ruleset(topology.netns(node), text);
        }
        const auto& host = topology.netns(scenario.load_node);
        if (policy.compiled) {
            apply_policy(host, *policy.compiled, backend,
                         run_cgroups != nullptr && run_cgroups->needs_private_mount());
        } else {
            load_ruleset(host, policy.text);
        }
        std::vector<LinkCapture> captures;
        for (const auto& end : scenario.captures) {
            captures.emplace_back(topology, end);
        }
        for (std::size_t number = 0; number < scenario.flows.size(); ++number) {
            const auto& flow = scenario.flows[number];
            for (const auto& renumbering : scenario.renumberings) {
                if (renumbering.before_flow == number) {
                    topology.renumber(renumbering.at, renumbering.from, renumbering.to);
                }
            }
            if (const auto* skip = skip_of(scenario, backend, flow.name)) {
                result.skipped_flows.push_back("flow " + flow.name + " not run on " +
                                               name_of(backend) + ": " + skip->reason);
                continue;
            }
            auto report = run_flow(topology, resolved(flow, run_cgroups));
            for (const auto& problem : report.problems) {
                (flow.blocked ? result.notes : result.problems)
                    .push_back("flow " + flow.name + ": " + problem);
            }
            // A rule was meant to stop it: an answer means the rule let it through.
            if (flow.blocked && report.reply_received.packets != 0) {
                result.problems.push_back("flow " + flow.name + " is blocked, but " +
                                          std::to_string(report.reply_received.packets) +
                                          " replies came back");
            }
            result.flows.push_back(std::move(report));
        }
        std::vector<CaptureReport> captured;
        for (auto& capture : captures) {
            captured.push_back(capture.finish());
            if (captured.back().drops != 0) {
                result.problems.push_back("a capture lost " +
                                          std::to_string(captured.back().drops) + " packets");
            }
            for (const auto& problem : captured.back().problems) {
                result.problems.push_back("capture: " + problem);
            }
        }
        const auto counters = read_settled_counters(host, policy, backend);
        std::set<std::string> expected_names;
        for (const auto& expectation : scenario.expectations) {
            auto check = check_expectation(expectation, result.flows, captured);
            if (const auto found = counters.find(check.counter); found != counters.end()) {
                check.counted = found->second;
            }
            expected_names.insert(check.counter);
            result.checks.push_back(check);
        }
        // A counter nobody expected must stay at zero: over-counting is a bug too.
        for (const auto& [name, value] : counters) {
            if (expected_names.count(name) == 0) {
                CounterCheck check;
                check.counter = name;
                check.counted = value;
                result.checks.push_back(check);
            }
        }
    } catch (const BackendRejects& rejected) {
        result.skipped = rejected.what();
    } catch (const std::exception& error) {
        result.problems.push_back(error.what());
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

void print_mismatches(std::ostream& out, const ScenarioResult& result, bool every_check) {
    for (const auto& problem : result.problems) {
        out << "    problem: " << problem << "\n";
    }
    bool header = false;
    for (const auto& check : result.checks) {
        if (check.passed() && !every_check) {
            continue;
        }
        if (!header) {
            out << "    " << std::left << std::setw(28) << "counter" << std::setw(26) << "expected"
                << std::setw(26) << "counted"
                << "captured\n";
            header = true;
        }
        out << "    " << std::left << std::setw(28) << check.counter << std::setw(26)
            << format(check.expected) << std::setw(26)
            << (check.counted ? format(*check.counted) : "(no such counter)")
            << (check.captured ? format(*check.captured) : "-")
            << (check.merged_header ? "  (merged)" : "") << (check.passed() ? "" : "  <- mismatch")
            << "\n";
    }
}

void print_summary(std::ostream& out, const std::vector<ScenarioResult>& results) {
    out << "\n"
        << std::left << std::setw(32) << "scenario" << std::setw(17) << "backend" << std::setw(8)
        << "result" << std::setw(10) << "counters" << std::setw(8) << "flows" << std::setw(12)
        << "packets"
        << "time\n";
    std::size_t passed = 0;
    std::size_t skipped = 0;
    for (const auto& result : results) {
        std::uint64_t packets = 0;
        for (const auto& flow : result.flows) {
            packets += flow.orig_sent.packets + flow.reply_sent.packets;
        }
        passed += result.passed() && !result.skipped ? 1 : 0;
        skipped += result.skipped ? 1 : 0;
        std::ostringstream seconds;
        seconds << std::fixed << std::setprecision(1) << result.seconds << " s";
        out << std::left << std::setw(32) << result.name << std::setw(17) << name_of(result.backend)
            << std::setw(8)
            << (result.skipped    ? "skip"
                : result.passed() ? "pass"
                                  : "FAIL")
            << std::setw(10) << result.checks.size() << std::setw(8) << result.flows.size()
            << std::setw(12) << packets << seconds.str() << "\n";
    }
    out << passed << " of " << results.size() - skipped << " scenario runs passed";
    if (skipped != 0) {
        out << ", " << skipped << " skipped";
    }
    out << "\n";
}

} // namespace acctc::testbench
