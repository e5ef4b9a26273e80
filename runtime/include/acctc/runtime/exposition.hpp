// Prometheus text exposition format (version 0.0.4) for counter samples.
#pragma once

#include "acctc/runtime/counter_sample.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

// Renders acctc_packets_total and acctc_bytes_total, each with HELP and TYPE lines and one
// sample per counter labelled {policy="...",counter="<family>"} plus one label per dimension
// (direction, protocol, icmp_type, class), in the order given.
std::string format_prometheus(const std::vector<CounterSample>& samples);

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

} // namespace acctc::runtime
