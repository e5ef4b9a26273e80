// Runs flows as real processes in a topology's namespaces and collects what they report.
#pragma once

#include "acctc/testbench/flow.hpp"
#include "acctc/testbench/topology.hpp"

namespace acctc::testbench {

// The server starts first and says when it listens; then the client runs to its end; then
// the server is told to finish. Failures of either side end up in FlowReport::problems.
FlowReport run_flow(const Topology& topology, const FlowSpec& flow);

} // namespace acctc::testbench
