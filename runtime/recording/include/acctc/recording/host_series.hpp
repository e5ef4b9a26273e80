// `split host` readings as recorded series (docs/recording.md, "Per-host counters"): one RRD per
// host would grow without bound on a busy LAN, so `acctc record` keeps the hosts with the most
// bytes, each as the series COUNTER@HOST, and sums the others into COUNTER@other.
#pragma once

#include "acctc/runtime/counter_sample.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::recording {

// Hosts per counter that `acctc record` keeps on their own unless --top says otherwise.
inline constexpr std::size_t default_recorded_hosts = 10;
inline constexpr std::string_view other_hosts_label = "other";

// "lan_in@198.18.1.5": the series of one host of a counter, "lan_in@other" the rest.
std::string host_series_name(std::string_view counter, std::string_view host);

// The samples to record: every sample without a host unchanged; per counter with hosts, the
// `top` hosts with the most bytes and every host `recorded` already (a host once recorded on
// its own stays so: moving it into `other` would show its whole count as one step's traffic
// there), named by host_series_name; and one sample COUNTER@other (host="other") with the sum
// of the rest, zero when there is none. The overflow counter (host="overflow") is a counter of
// its own and passes unchanged.
std::vector<runtime::CounterSample>
host_series(const std::vector<runtime::CounterSample>& samples, std::size_t top,
            const std::function<bool(const runtime::CounterSample& series)>& recorded);

} // namespace acctc::recording
