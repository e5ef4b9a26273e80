#include "acctc/testbench/runner.hpp"

#include "acctc/compile.hpp"
#include "acctc/testbench/traffic.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

namespace acctc::testbench {
namespace {

// passwd, group and services for the compiler, so `owner group skype` resolves to the
// scenario's gid without touching the host's /etc.
class EtcDirectory {
  public:
    explicit EtcDirectory(const Scenario& scenario) {
        std::string pattern = (std::filesystem::temp_directory_path() / "acctc-tb-etc-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw_errno("mkdtemp");
        }
        path_ = pattern;
        std::ofstream group(path_ / "group");
        group << "root:x:0:\n";
        for (const auto& [name, gid] : scenario.groups) {
            group << name << ":x:" << gid << ":\n";
        }
        std::ofstream passwd(path_ / "passwd");
        passwd << "root:x:0:0:root:/root:/bin/sh\n";
        for (const auto& [name, ids] : scenario.users) {
            passwd << name << ":x:" << ids.first << ":" << ids.second << "::/:/bin/false\n";
        }
        std::error_code ignored;
        std::filesystem::copy_file("/etc/services", path_ / "services", ignored);
    }
    EtcDirectory(const EtcDirectory&) = delete;
    EtcDirectory& operator=(const EtcDirectory&) = delete;
    ~EtcDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

struct LoadedRuleset {
    std::string table;
    std::string text;
};

LoadedRuleset prepare_ruleset(const Scenario& scenario) {
    if (!scenario.ruleset_table.empty()) {
        return {scenario.ruleset_table, scenario.policy_text};
    }
    EtcDirectory etc(scenario);
    CompileOptions options;
    options.target = Target::nft;
    options.etc_dir = etc.path();
    auto result = compile_source(scenario.policy_name, scenario.policy_text, options);
    if (!result.output) {
        std::ostringstream messages;
        render_all(messages, result.source, result.diagnostics);
        throw std::runtime_error("the policy does not compile:\n" + messages.str());
    }
    return {result.output->table_name, result.output->text};
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
        const auto tally =
            captured_flow(captured, ip_protocol_number(flow->protocol, flow->family), tuples);
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
                                                          const std::string& table) {
    auto previous = read_counters(netns, table);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        auto current = read_counters(netns, table);
        if (current == previous || std::chrono::steady_clock::now() > deadline) {
            return current;
        }
        previous = std::move(current);
    }
}

std::string format(const CounterValue& value) {
    return std::to_string(value.packets) + " pkts " + std::to_string(value.bytes) + " B";
}

} // namespace

std::filesystem::path default_scenario_directory() {
    return ACCTC_SCENARIO_DIR;
}

bool CounterCheck::passed() const {
    return counted && *counted == expected && (!captured || *captured == expected);
}

bool ScenarioResult::passed() const {
    return problems.empty() && std::all_of(checks.begin(), checks.end(),
                                           [](const auto& check) { return check.passed(); });
}

ScenarioResult run_scenario(const Scenario& scenario) {
    const auto started = std::chrono::steady_clock::now();
    ScenarioResult result;
    result.name = scenario.name;
    try {
        const auto ruleset = prepare_ruleset(scenario);
        Topology topology(scenario.topology, RunPrefix::current());
        for (const auto& [node, text] : scenario.node_rulesets) {
            load_ruleset(topology.netns(node), text);
        }
        const auto& host = topology.netns(scenario.load_node);
        load_ruleset(host, ruleset.text);
        std::vector<LinkCapture> captures;
        for (const auto& end : scenario.captures) {
            captures.emplace_back(topology, end);
        }
        for (const auto& flow : scenario.flows) {
            auto report = run_flow(topology, flow);
            for (const auto& problem : report.problems) {
                (flow.blocked ? result.notes : result.problems)
                    .push_back("flow " + flow.name + ": " + problem);
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
        const auto counters = read_settled_counters(host, ruleset.table);
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
            << (check.passed() ? "" : "  <- mismatch") << "\n";
    }
}

void print_summary(std::ostream& out, const std::vector<ScenarioResult>& results) {
    out << "\n"
        << std::left << std::setw(32) << "scenario" << std::setw(8) << "result" << std::setw(10)
        << "counters" << std::setw(8) << "flows" << std::setw(12) << "packets"
        << "time\n";
    std::size_t passed = 0;
    for (const auto& result : results) {
        std::uint64_t packets = 0;
        for (const auto& flow : result.flows) {
            packets += flow.orig_sent.packets + flow.reply_sent.packets;
        }
        passed += result.passed() ? 1 : 0;
        std::ostringstream seconds;
        seconds << std::fixed << std::setprecision(1) << result.seconds << " s";
        out << std::left << std::setw(32) << result.name << std::setw(8)
            << (result.passed() ? "pass" : "FAIL") << std::setw(10) << result.checks.size()
            << std::setw(8) << result.flows.size() << std::setw(12) << packets << seconds.str()
            << "\n";
    }
    out << passed << " of " << results.size() << " scenarios passed\n";
}

} // namespace acctc::testbench
