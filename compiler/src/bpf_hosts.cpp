#include "bpf_hosts.hpp"

#include "acctc/counter_labels.hpp"

#include <algorithm>

namespace acctc {

namespace {

bool summed_by_quota(const ir::Policy& policy, const std::string& counter) {
    return std::any_of(policy.quotas.begin(), policy.quotas.end(), [&](const ir::Quota& quota) {
        return std::find(quota.counters.begin(), quota.counters.end(), counter) !=
               quota.counters.end();
    });
}

// One interface and one direction in both scopes, nothing else: the packets a program on that
// device's hook sees (it also sees what routing then drops, docs/performance.md).
bool device_only(const ir::Match& m) {
    return m.scopes == (ir::scope_local | ir::scope_forward) &&
           (m.directions == ir::dir_in || m.directions == ir::dir_out) && m.via.size() == 1 &&
           !m.via.front().empty() && m.via.front().back() != '*' && !m.include_loopback &&
           !m.has_owner() && !m.protocols && m.ports.empty() && !m.icmp && m.addresses.empty() &&
           !m.fragment && !m.new_connection && !m.length;
}

} // namespace

bool bpf_eligible(const ir::Policy& policy, const ir::Counter& counter) {
    if (!counter.host || counter.splits.size() != 1 || counter.follow || !counter.listen.empty() ||
        counter.verdict != ir::Verdict::none || counter.peers_referenced ||
        !device_only(counter.match) || summed_by_quota(policy, counter.name)) {
        return false;
    }
    const ir::HostSplit& host = *counter.host;
    // local and remote name another address on input than on forward: not one key per device.
    return (host.side == ir::HostSide::source || host.side == ir::HostSide::destination) &&
           host.v4_prefix == 32 && host.v6_prefix == 128 && !host.within &&
           host.timeout_seconds == 0;
}

std::vector<BpfHostCounterPlan> plan_bpf_hosts(const ir::Policy& policy,
                                               const std::set<std::string>& nft_hosts) {
    std::vector<BpfHostCounterPlan> plan;
    for (const ir::Counter& counter : policy.counters) {
        if (!bpf_eligible(policy, counter) || nft_hosts.count(counter.name) != 0) {
            continue;
        }
        const bool in = counter.match.directions == ir::dir_in;
        const std::string& device = counter.match.via.front();
        CounterIdentity identity{counter.name, CounterKind::counter, {}, counter.origin, {}, {}};
        identity.wire.add(WireDifference::receive_offload);
        if (in) {
            identity.receive_devices = {device};
        } else {
            identity.wire.add(WireDifference::segmentation_offload);
        }
        CounterIdentity overflow = identity;
        overflow.labels.push_back({Dimension::host, "overflow"});
        const std::string overflow_name = counter.name + "_overflow";
        plan.push_back({counter.name, counter.name, overflow_name, counter.origin, device,
                        in ? BpfHook::ingress : BpfHook::egress,
                        counter.host->side == ir::HostSide::source ? BpfAddress::source
                                                                   : BpfAddress::destination,
                        counter.host->size, encode_counter_comment(counter.name, identity),
                        encode_counter_comment(overflow_name, overflow)});
    }
    return plan;
}

ir::Policy without_bpf_hosts(const ir::Policy& policy,
                             const std::vector<BpfHostCounterPlan>& plan) {
    const auto planned = [&](const ir::Counter& counter) {
        return std::any_of(plan.begin(), plan.end(), [&](const BpfHostCounterPlan& entry) {
            return entry.declared == counter.name;
        });
    };
    ir::Policy out = policy;
    out.counters.clear();
    // Old index -> new index (or none): order and verdicts name counters by index.
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> index(policy.counters.size(), none);
    for (std::size_t i = 0; i < policy.counters.size(); ++i) {
        if (!planned(policy.counters[i])) {
            index[i] = out.counters.size();
            out.counters.push_back(policy.counters[i]);
        }
    }
    out.order.clear();
    for (const ir::Policy::Item item : policy.order) {
        if (item.is_classify) {
            out.order.push_back(item);
        } else if (index[item.index] != none) {
            out.order.push_back({false, index[item.index]});
        }
    }
    for (ir::VerdictRule& verdict : out.verdicts) {
        if (verdict.counter != none) {
            verdict.counter = index[verdict.counter]; // an eligible counter has no verdict
        }
    }
    return out;
}

} // namespace acctc
