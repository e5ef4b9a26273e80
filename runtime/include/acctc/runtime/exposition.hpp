// Prometheus text exposition format (version 0.0.4) for counter samples.
#pragma once

#include "acctc/runtime/counter_sample.hpp"
#include "acctc/runtime/quotas.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

// Host series Prometheus shows per counter (policy, name and labels but the host) by default.
inline constexpr std::size_t default_max_host_series = 1000;

// At most max_hosts host samples per counter: the largest by bytes, the rest summed into one
// sample labelled host="other". Samples without a host label (and the overflow) pass as they are.
std::vector<CounterSample> cap_host_series(const std::vector<CounterSample>& samples,
                                           std::size_t max_hosts);

// Renders acctc_packets_total and acctc_bytes_total, each with HELP and TYPE lines and one
// sample per counter labelled {policy="...",counter="<family>"} plus one label per dimension
// (direction, protocol, icmp_type, class, host), in the order given; the hosts of each counter
// capped by cap_host_series(samples, max_hosts).
std::string format_prometheus(const std::vector<CounterSample>& samples,
                              std::size_t max_hosts = default_max_host_series);

// acctc_quota_used_bytes, acctc_quota_limit_bytes and acctc_quota_warning_bytes gauges, one
// sample per quota labelled {policy, quota, period}, and per host of a per-host quota with a
// host label too: its max_hosts most used hosts (the others are left out: a sum of several
// hosts' use means nothing against one host's budget).
std::string format_quota_prometheus(const std::vector<QuotaReading>& readings,
                                    std::size_t max_hosts = default_max_host_series);

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

} // namespace acctc::runtime
