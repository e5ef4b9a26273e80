// One named counter's value as read from the kernel: shared by counters, record and serve.
#pragma once

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/backend_kind.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace acctc::runtime {

// What a counter is apart from its values, from its kernel comment (acctc/counter_labels.hpp).
// The same for every reading of the counter and never changed once made, so readings share
// it: a read of 100,000 counters that the process read before builds no string or list per
// counter (counter_descriptions.hpp), and 65,536 host readings share their counter's.
struct CounterDescription {
    // The family, e.g. skype, and its dimension labels, e.g. direction=in protocol=tcp; family
    // empty (the counter's name) and no labels for tables written before the labels existed.
    // Without the host of a per-host reading (CounterSample::host).
    std::string family{};
    std::vector<Label> labels{};
    // How its counts may differ from the wire's as the comment declares it (docs/counting.md);
    // CounterSample::wire is what a reading resolved of it.
    WireDifferences wire{};
    // The devices whose receive offloads decide WireDifference::receive_offload (any device
    // when none): one list shared by the descriptions a read made that name the same devices,
    // so that a read resolves 100,000 readings' devices by the list's address
    // (ReceiveOffloadResolver), not by comparing their names. Null: none.
    std::shared_ptr<const std::vector<std::string>> devices{};
    std::string origin{}; // "file:line", empty when the kernel object has no comment

    const std::vector<std::string>& receive_devices() const {
        static const std::vector<std::string> none;
        return devices ? *devices : none;
    }

    // The description decoded into `identity` (the host label, if any, stays in it).
    static std::shared_ptr<const CounterDescription> of(CounterIdentity identity);
};

struct CounterSample {
    std::string policy;  // policy name (table acctc_<policy>, or iptables chain prefix)
    std::string counter; // counter name as compiled, e.g. skype_tcp_in
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    // Shared with every other reading of the counter; null: no family, labels or origin.
    std::shared_ptr<const CounterDescription> description{};
    // One host's reading of a `split host` counter: its address, the last label.
    std::string host{};
    // How its counts may differ from the wire's (docs/counting.md). As read, receive_offload
    // says the counter counts arriving TCP; CounterSource keeps it only where one of
    // receive_devices() (any device when empty) has GRO or LRO on, so merged() is what it does.
    WireDifferences wire{};
    // The backend that read it: make_backend's backends say so on every reading they return.
    // A policy applied with two backends has two readings of each counter, each counting from
    // its own zero, which the period totals keep apart.
    BackendKind backend = BackendKind::nftables;

    const CounterDescription& what() const {
        static const CounterDescription none;
        return description ? *description : none;
    }
    const std::string& family() const { return what().family; }
    const std::vector<std::string>& receive_devices() const { return what().receive_devices(); }
    // The family, or the counter name when the family is unknown.
    const std::string& family_or_name() const {
        return what().family.empty() ? counter : what().family;
    }
    // Every dimension label in the order of enum Dimension, the host last.
    std::vector<Label> labels() const {
        std::vector<Label> all = what().labels;
        if (!host.empty()) {
            all.push_back({Dimension::host, host});
        }
        return all;
    }
    // The value of one dimension; empty when the counter does not have it. A reference: sorting
    // 100,000 readings by a label must not copy it at every comparison.
    const std::string& label(Dimension dimension) const {
        static const std::string none;
        if (dimension == Dimension::host && !host.empty()) {
            return host;
        }
        for (const auto& l : what().labels) {
            if (l.dimension == dimension) {
                return l.value;
            }
        }
        return none;
    }
    // One host's reading of a `split host` counter (not its overflow counter, host=overflow).
    bool per_host() const {
        const std::string& value = label(Dimension::host);
        return !value.empty() && value != "overflow";
    }
};

inline std::shared_ptr<const CounterDescription> CounterDescription::of(CounterIdentity identity) {
    auto devices =
        identity.receive_devices.empty()
            ? nullptr
            : std::make_shared<const std::vector<std::string>>(std::move(identity.receive_devices));
    return std::make_shared<const CounterDescription>(
        CounterDescription{std::move(identity.family), std::move(identity.labels), identity.wire,
                           std::move(devices), std::move(identity.origin)});
}

} // namespace acctc::runtime
