// One named counter's value as read from the kernel: shared by counters, record and serve.
#pragma once

#include "acctc/counter_labels.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace acctc::runtime {

struct CounterSample {
    std::string policy;  // policy name (table acctc_<policy>, or iptables chain prefix)
    std::string counter; // counter name as compiled, e.g. skype_tcp_in
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    // From the kernel object's comment (acctc/counter_labels.hpp): the family, e.g. skype, and
    // its dimension labels, e.g. direction=in protocol=tcp. Family = counter and no labels for
    // tables written before the labels existed.
    std::string family{};
    std::vector<Label> labels{};
    // How its counts may differ from the wire's (docs/counting.md). As read, receive_offload
    // says the counter counts arriving TCP; CounterSource keeps it only where one of
    // receive_devices (any device when empty) has GRO or LRO on, so merged() is what it does.
    WireDifferences wire{};
    std::vector<std::string> receive_devices{};

    // The family, or the counter name when the family is unknown.
    const std::string& family_or_name() const { return family.empty() ? counter : family; }
    // The value of one dimension; empty when the counter does not have it. A reference: sorting
    // 100,000 readings by a label must not copy it at every comparison.
    const std::string& label(Dimension dimension) const {
        static const std::string none;
        for (const auto& l : labels) {
            if (l.dimension == dimension) {
                return l.value;
            }
        }
        return none;
    }
    // One host's reading of a `split host` counter (not its overflow counter, host=overflow).
    bool per_host() const {
        const std::string host = label(Dimension::host);
        return !host.empty() && host != "overflow";
    }
};

} // namespace acctc::runtime
