// Runs the iptables and ipset tools: argv, text on standard input, both outputs captured. The
// child inherits the calling thread's network namespace (the backend's NetnsScope).
#pragma once

#include <string>
#include <vector>

namespace acctc::runtime {

struct ProcessResult {
    int status = -1; // exit status, or -1 when killed by a signal
    std::string out;
    std::string err;
};

// Throws RuntimeError(system) when the program cannot be started at all.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {});

} // namespace acctc::runtime
