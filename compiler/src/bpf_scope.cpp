#include "bpf_scope.hpp"

#include "wire_differences.hpp"

#include <algorithm>

namespace acctc {

BpfRange bpf_range(const Interval& interval) {
    return {static_cast<std::uint64_t>(interval.lo >> 64), static_cast<std::uint64_t>(interval.lo),
            static_cast<std::uint64_t>(interval.hi >> 64), static_cast<std::uint64_t>(interval.hi)};
}

bool summed_by_quota(const ir::Policy& policy, const std::string& counter) {
    return std::any_of(policy.quotas.begin(), policy.quotas.end(), [&](const ir::Quota& quota) {
        return std::find(quota.counters.begin(), quota.counters.end(), counter) !=
               quota.counters.end();
    });
}

bool device_only(const ir::Match& m) {
    return (m.scopes == (ir::scope_local | ir::scope_forward) || m.scopes == ir::scope_forward) &&
           m.directions != 0 && m.via.size() == 1 && !m.via.front().empty() &&
           m.via.front().back() != '*' && !m.include_loopback && !m.has_owner() && !m.protocols &&
           m.ports.empty() && !m.icmp && m.addresses.empty() && !m.fragment && !m.new_connection &&
           !m.length;
}

void see_at_tcx(CounterIdentity& identity, const std::string& device, bool arriving, bool leaving,
                std::optional<std::uint8_t> protocol) {
    identity.wire = {};
    identity.wire.add(WireDifference::receive_offload);
    if (leaving) {
        identity.wire.add(WireDifference::segmentation_offload);
    }
    if (protocol) {
        identity.wire = for_protocol(identity.wire, *protocol);
    }
    identity.receive_devices.clear();
    if (arriving && identity.wire.has(WireDifference::receive_offload)) {
        identity.receive_devices = {device};
    }
}

} // namespace acctc
