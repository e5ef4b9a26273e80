// Control-plane timings at scale: loading a policy of N classes through the runtime (one
// transaction), reloading it, and reading and resetting its N+1 counters, in a namespace of this
// run.
#pragma once

#include "acctc/bench/read_timing.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace acctc::bench {

struct ApplyTiming {
    std::string kind; // the class kind used (ports up to 64k classes, then protoport)
    std::size_t classes = 0;
    std::size_t counters = 0; // as read back: classes + otherwise
    std::size_t ruleset_bytes = 0;
    double compile_seconds = 0;
    double apply_seconds = 0;  // new table
    double reload_seconds = 0; // same policy again: every counter kept
    // One class's match changed (its rules and map replaced, every counter kept).
    double change_seconds = 0;
    // CPU time (user + system, this process: the kernel's work for a transaction is done in
    // the sender's context) of the same three: less sensitive to other load than wall time.
    double apply_cpu_seconds = 0;
    double reload_cpu_seconds = 0;
    double change_cpu_seconds = 0;
    ReadTimings reads; // of the N+1 counters
};

std::vector<ApplyTiming> run_apply_timing(const std::vector<std::size_t>& sizes,
                                          unsigned repetitions,
                                          const std::function<void(const std::string&)>& progress);

} // namespace acctc::bench
