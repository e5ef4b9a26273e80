// Runs a scenario end to end and judges it: compile the policy, build the topology, load the
// ruleset in the `load` node, capture, run every flow, read the counters, and compare each
// counter with what the peers reported (expected) and with what the capture saw.
#pragma once

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
    bool passed() const;
};

struct ScenarioResult {
    std::string name;
    std::vector<CounterCheck> checks;
    std::vector<FlowReport> flows;
    std::vector<std::string> problems; // set-up failures, peer failures, capture loss
    std::vector<std::string> notes;    // expected failures of blocked flows
    double seconds = 0;
    bool passed() const;
};

ScenarioResult run_scenario(const Scenario& scenario);

// specs/scenarios of the source tree this library was built from.
std::filesystem::path default_scenario_directory();

// Problems, then "counter  expected  counted  captured" rows: the failed checks, or all
// of them with `every_check`.
void print_mismatches(std::ostream& out, const ScenarioResult& result, bool every_check = false);
// One row per scenario: name, result, counters checked, packets, time.
void print_summary(std::ostream& out, const std::vector<ScenarioResult>& results);

} // namespace acctc::testbench
