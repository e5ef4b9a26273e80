// One named counter's value as read from the kernel: shared by counters, record and serve.
#pragma once

#include <cstdint>
#include <string>

namespace acctc::runtime {

struct CounterSample {
    std::string policy;  // policy name (table acctc_<policy>, or iptables chain prefix)
    std::string counter; // counter name as compiled, e.g. skype_tcp_in
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

} // namespace acctc::runtime
