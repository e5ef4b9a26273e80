// Runs a scenario end to end and judges it: compile the policy, build the topology, load the
// ruleset in the `load` node, capture, run every flow, read the counters, and compare each
// counter with what the peers reported (expected) and with what the capture saw.
#pragma once

#include "acctc/runtime/backend.hpp"
#include "acctc/testbench/capture.hpp"
#include "acctc/testbench/scenario.hpp"

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace acctc::testbench {

struct CounterCheck {
    std::string counter;
    CounterValue expected;
    std::optional<CounterValue> counted;  // empty: the ruleset has no such counter
    std::optional<CounterValue> captured; // empty: a literal expectation, nothing to capture
    std::optional<std::uint64_t> merged_header; // Expectation::merged_header
    bool passed() const;
};

// A scenario's policy is compiled for and loaded with one of runtime::backends(): what the
// row says `compile` emits, applied and read the way the row's runtime side does.
using runtime::BackendKind;

struct ScenarioResult {
    std::string name;
    BackendKind backend = BackendKind::nftables;
    // Set when the scenario did not run on this backend (it rejects a construct, or the
    // backend is not available): a visible note, neither pass nor failure.
    std::optional<std::string> skipped;
    std::vector<CounterCheck> checks;
    std::vector<FlowReport> flows;
    std::vector<std::string> problems; // set-up failures, peer failures, capture loss
    std::vector<std::string> notes;    // expected failures of blocked flows
    // Flows the scenario does not run on this backend (`skip`), each with its reason: shown
    // with every run, so a limitation never hides silently.
    std::vector<std::string> skipped_flows;
    double seconds = 0;
    bool passed() const;
};

ScenarioResult run_scenario(const Scenario& scenario, BackendKind backend = BackendKind::nftables);

// Both backends must count the same: a problem is added to `second` for every counter whose
// value differs from `first`'s (skipped runs are not compared).
void compare_backends(const ScenarioResult& first, ScenarioResult& second);

// specs/scenarios of the source tree this library was built from.
std::filesystem::path default_scenario_directory();

// Problems, then "counter  expected  counted  captured" rows: the failed checks, or all
// of them with `every_check`.
void print_mismatches(std::ostream& out, const ScenarioResult& result, bool every_check = false);
// One row per scenario: name, result, counters checked, packets, time.
void print_summary(std::ostream& out, const std::vector<ScenarioResult>& results);

} // namespace acctc::testbench
