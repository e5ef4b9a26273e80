#include "bpf_hosts.hpp"

#include "bpf_scope.hpp"
#include "families.hpp"

#include <algorithm>
#include <optional>

namespace acctc {

namespace {

// The splits a program can take: `split direction` (both directions, a program each) and
// `split protocol` (a program per protocol, counting only its packets), beside `split host`.
bool program_splits(const ir::Counter& counter) {
    return std::all_of(counter.splits.begin(), counter.splits.end(), [](const ir::SplitSpec& s) {
        return s.kind == ir::Split::host || s.kind == ir::Split::direction ||
               s.kind == ir::Split::protocol;
    });
}

// The directions the counter counts (true: in), one program each: one, or both (with
// `split direction` each its counter; without, both programs count in the same maps).
std::vector<bool> program_directions(const ir::Counter& counter) {
    const unsigned both = ir::dir_in | ir::dir_out;
    const bool split = counter.splits_by(ir::Split::direction);
    if (counter.match.directions == both) {
        return {true, false};
    }
    if (split) {
        return {};
    }
    if (counter.match.directions == ir::dir_in) {
        return {true};
    }
    if (counter.match.directions == ir::dir_out) {
        return {false};
    }
    return {};
}

// The address of a packet arriving (in) or leaving (out) via the device that names the host.
// `local` and `remote` only when forwarded: on input and output they name the other address.
std::optional<BpfAddress> key_address(const ir::Counter& counter, bool in) {
    switch (counter.host->side) {
    case ir::HostSide::source:
        return BpfAddress::source;
    case ir::HostSide::destination:
        return BpfAddress::destination;
    case ir::HostSide::remote: // the far side of the device
        if (counter.match.scopes == ir::scope_forward) {
            return in ? BpfAddress::destination : BpfAddress::source;
        }
        return std::nullopt;
    case ir::HostSide::local: // the device's side
        if (counter.match.scopes == ir::scope_forward) {
            return in ? BpfAddress::source : BpfAddress::destination;
        }
        return std::nullopt;
    default:
        return std::nullopt;
    }
}

std::vector<BpfRange> ranges(const IntervalSet& set) {
    std::vector<BpfRange> out;
    for (const Interval& part : set.parts()) {
        out.push_back(bpf_range(part));
    }
    return out;
}

} // namespace

bool bpf_eligible(const ir::Policy& policy, const ir::Counter& counter) {
    if (!counter.host || counter.follow || !counter.listen.empty() ||
        counter.verdict != ir::Verdict::none || counter.peers_referenced ||
        !device_only(counter.match) || !program_splits(counter) ||
        summed_by_quota(policy, counter.name)) {
        return false;
    }
    const auto directions = program_directions(counter);
    const ir::HostSplit& host = *counter.host;
    return !directions.empty() && std::all_of(directions.begin(), directions.end(), [&](bool in) {
        return key_address(counter, in).has_value();
    }) && host.timeout_seconds == 0;
}

std::vector<BpfHostCounterPlan> plan_bpf_hosts(const ir::Policy& policy,
                                               const std::set<std::string>& nft_hosts) {
    std::vector<BpfHostCounterPlan> plan;
    for (const ir::Counter& counter : policy.counters) {
        if (!bpf_eligible(policy, counter) || nft_hosts.count(counter.name) != 0) {
            continue;
        }
        const std::string& device = counter.match.via.front();
        // Names and labels as nft's sets and overflow counters have them (families.hpp): a
        // program per direction and protocol, in the family's order.
        const rules::CounterFamily family = counter_family(counter);
        // Both directions in one counter: the ingress program and one at the egress.
        const bool joined =
            !counter.splits_by(ir::Split::direction) && program_directions(counter).size() == 2;
        for (Coordinate at : coordinates(family)) {
            const bool in = at.direction ? *at.direction == rules::Direction::in
                                         : program_directions(counter).front();
            at.overflow = false;
            rules::CounterObject hosts = counter_object(family, at);
            at.overflow = true;
            rules::CounterObject overflow = counter_object(family, at);
            // What the device's hook sees, not what nft's would: tc ingress GRO's packets,
            // tc egress GSO's before they are cut up; per protocol as nft's counters say.
            for (CounterIdentity* identity : {&hosts.identity, &overflow.identity}) {
                see_at_tcx(*identity, device, in, !in || joined, at.protocol);
            }
            BpfHostCounterPlan entry{hosts.name,
                                     counter.name,
                                     overflow.name,
                                     counter.origin,
                                     device,
                                     in ? BpfHook::ingress : BpfHook::egress,
                                     *key_address(counter, in),
                                     counter.host->size,
                                     encode_counter_comment(hosts.name, hosts.identity),
                                     encode_counter_comment(overflow.name, overflow.identity)};
            entry.forwarded_only = counter.match.scopes == ir::scope_forward;
            if (joined) {
                entry.egress_key = key_address(counter, false);
            }
            entry.v4_prefix = counter.host->v4_prefix;
            entry.v6_prefix = counter.host->v6_prefix;
            entry.protocol = at.protocol;
            if (counter.host->within) {
                entry.within = true;
                entry.within_v4 = ranges(counter.host->v4);
                entry.within_v6 = ranges(counter.host->v6);
            }
            plan.push_back(std::move(entry));
        }
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
