#include "wire_differences.hpp"

#include <algorithm>

namespace acctc {

Hooks hooks_of(const ir::Match& m) {
    Hooks h;
    if (m.scopes & ir::scope_local) {
        h.input = (m.directions & ir::dir_in) != 0;
        h.output = (m.directions & ir::dir_out) != 0;
    }
    h.forward = (m.scopes & ir::scope_forward) != 0;
    h.ingress = (m.scopes & ir::scope_passive) != 0;
    return h;
}

bool tcp_only(const ir::Match& m) {
    const auto only_tcp = [](const IntervalSet& protocols) {
        return protocols.parts().size() == 1 && protocols.parts()[0].lo == 6 &&
               protocols.parts()[0].hi == 6;
    };
    if (m.protocols) {
        return only_tcp(*m.protocols);
    }
    if (m.ports.empty()) {
        return false;
    }
    for (const auto& port : m.ports) {
        if (!only_tcp(port.protocols)) {
            return false;
        }
    }
    return true;
}

bool may_count_tcp(const ir::Match& m) {
    if (m.icmp) {
        return false;
    }
    if (m.protocols) {
        return m.protocols->contains(6);
    }
    for (const auto& port : m.ports) {
        if (port.protocols.contains(6)) {
            return true;
        }
    }
    return m.ports.empty();
}

namespace {

std::vector<std::string> sorted_via(const ir::Counter& counter) {
    std::vector<std::string> via = counter.match.via;
    std::sort(via.begin(), via.end());
    via.erase(std::unique(via.begin(), via.end()), via.end());
    return via;
}

} // namespace

bool counts_once(const ir::Counter& counter) {
    const ir::Match& m = counter.match;
    return (m.scopes & ir::scope_forward) && (m.directions & ir::dir_in) &&
           (m.directions & ir::dir_out) && !m.via.empty() &&
           !counter.splits_by(ir::Split::direction);
}

std::optional<std::vector<std::string>> once_devices(const ir::Policy& policy) {
    std::optional<std::vector<std::string>> devices;
    for (const auto& counter : policy.counters) {
        if (!counts_once(counter)) {
            continue;
        }
        if (devices && *devices != sorted_via(counter)) {
            return std::nullopt;
        }
        devices = sorted_via(counter);
    }
    return devices;
}

bool counts_leaving_at_egress(const ir::Counter& counter, const ir::Policy& policy, bool egress) {
    const ir::Match& m = counter.match;
    const bool quoted = std::any_of(policy.quotas.begin(), policy.quotas.end(), [&](auto& q) {
        return std::any_of(q.counters.begin(), q.counters.end(), [&](const std::string& name) {
            return name == counter.name || name.starts_with(counter.name + "_");
        });
    });
    const unsigned leaving_scopes = ir::scope_local | ir::scope_forward;
    if (!egress || (m.directions & ir::dir_out) == 0 || (m.scopes & ~leaving_scopes) != 0 ||
        m.via.empty() || quoted || counter.host || counter.peers_referenced || tcp_only(m)) {
        return false;
    }
    for (const auto& device : m.via) {
        if (device.ends_with('*')) {
            return false;
        }
    }
    // A counter of what it drops counts at its hook, where it drops.
    if (counter.verdict == ir::Verdict::drop) {
        return false;
    }
    if (counts_once(counter) && once_devices(policy) != sorted_via(counter)) {
        return false;
    }
    // Connection tracking is not readable there (nf_tables refuses `ct` in the netdev family
    // with EPROTO on this kernel).
    if (counter.splits_by(ir::Split::type) || counter.splits_by(ir::Split::opener) ||
        counter.follow || m.new_connection) {
        return false;
    }
    if (m.has_owner() || !m.ports.empty() || m.icmp || m.length) {
        return false;
    }
    for (const auto& address : m.addresses) {
        if (address.side != ir::Side::destination || !address.peers_of.empty()) {
            return false;
        }
    }
    return true;
}

rules::WireSides counter_wire_sides(const ir::Counter& counter, const ir::Policy& policy,
                                    bool egress) {
    return wire_sides(counter.match, counter.match, policy.uses_conntrack, counter.follow,
                      counts_leaving_at_egress(counter, policy, egress));
}

WireDifferences for_protocol(WireDifferences differences, std::uint8_t protocol) {
    using enum WireDifference;
    constexpr std::uint8_t tcp = 6;
    if (protocol == tcp) {
        differences.remove(fragmentation);
        differences.remove(reassembly);
    } else {
        differences.remove(segmentation_offload);
        differences.remove(receive_offload);
    }
    return differences;
}

rules::WireSide rules::WireSide::joined(const WireSide& other) const {
    WireSide out = *this;
    out.differences.add(other.differences);
    const bool mine = differences.has(WireDifference::receive_offload);
    const bool theirs = other.differences.has(WireDifference::receive_offload);
    if (mine && theirs && (receive_devices.empty() || other.receive_devices.empty())) {
        out.receive_devices.clear();
    } else if (theirs) {
        out.receive_devices.insert(out.receive_devices.end(), other.receive_devices.begin(),
                                   other.receive_devices.end());
    }
    return out;
}

rules::WireSides wire_sides(const ir::Match& scope, const ir::Match& what, bool uses_conntrack,
                            bool follows, bool at_egress) {
    using enum WireDifference;
    rules::WireSides sides;
    WireDifferences& arriving = sides.arriving.differences;
    WireDifferences& leaving = sides.leaving.differences;
    const Hooks h = hooks_of(scope);
    const bool tcp = may_count_tcp(what);
    // GRO merges before the ingress hook and before routing: what arrives for this host, what
    // a router forwards (whichever side the counter names) and every frame a passive counter
    // sees.
    if (tcp && (h.input || h.forward || h.ingress)) {
        arriving.add(receive_offload);
    }
    if (tcp && (h.forward || h.ingress)) {
        leaving.add(receive_offload);
    }
    if (what.fragment) {
        // Arriving fragments are counted before reassembly (lower.cpp); leaving ones are made
        // after the output and forward hooks.
        if (h.output || h.forward) {
            leaving.add(fragmentation);
        }
        if (follows && uses_conntrack && (h.input || h.forward)) {
            arriving.add(reassembly);
        }
    } else {
        if (h.output && tcp) {
            leaving.add(segmentation_offload);
        }
        if (h.output && !tcp_only(what)) {
            leaving.add(fragmentation);
        }
        if (uses_conntrack && !tcp_only(what) && (h.input || h.forward)) {
            arriving.add(reassembly);
            if (h.forward) {
                leaving.add(reassembly);
            }
        }
    }
    if (at_egress) {
        // Counted as the fragments leave: neither this host's nor a router's fragmentation
        // differs, nor does conntrack's reassembly of what a router forwards (refragmented
        // before egress).
        leaving.remove(fragmentation);
        leaving.remove(reassembly);
    }
    if ((scope.directions & ir::dir_in) == 0) {
        sides.arriving = {};
    }
    if ((scope.directions & ir::dir_out) == 0) {
        sides.leaving = {};
    }
    // `via` names the arrival device of arriving traffic and of every passive frame; what a
    // router sends out via a device arrived through any other.
    if (arriving.has(receive_offload)) {
        sides.arriving.receive_devices = scope.via;
    }
    if (leaving.has(receive_offload) && h.ingress) {
        sides.leaving.receive_devices = scope.via;
    }
    return sides;
}

} // namespace acctc
