#include "bpf_classes.hpp"

#include "bpf_scope.hpp"
#include "families.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>

namespace acctc {

namespace {

// The protocols a slot range holds, and where: one table for the eligibility, the partition and
// the ranges the plan names.
struct SlotBase {
    std::uint8_t protocol;
    std::size_t first; // the slot of its port 0
};
constexpr SlotBase slot_bases[] = {{6, BpfPortSlots::tcp}, {17, BpfPortSlots::udp}};

std::optional<std::size_t> slot_base(u128 protocol) {
    for (const SlotBase& base : slot_bases) {
        if (protocol == base.protocol) {
            return base.first;
        }
    }
    return std::nullopt;
}

bool all_have_slots(const IntervalSet& protocols) {
    for (const Interval& part : protocols.parts()) {
        for (u128 p = part.lo; p <= part.hi; ++p) {
            if (!slot_base(p)) {
                return false;
            }
        }
    }
    return true;
}

// Destination ports of TCP and/or UDP and nothing else: the port clause is its only condition
// (it restricts the match's protocols to its own: `tcp dport 80` is protocols 6 and that port
// match; a protocol clause beside it that narrows them further is not taken).
bool destination_ports_only(const ir::Match& m) {
    // Every member of ir::Match by name: a member added there fails to compile here until it is
    // decided whether a slot can tell it.
    [[maybe_unused]] const auto& [scopes_, directions_, via_, include_loopback_, uids_, gids_,
                                  cgroup_, protocols_, ports_, icmp_, addresses_, fragment_,
                                  new_connection_, length_] = m;
    if (m.ports.size() != 1) {
        return false;
    }
    const ir::PortMatch& port = m.ports.front();
    return port.side == ir::Side::destination && !port.protocols.empty() &&
           all_have_slots(port.protocols) && m.protocols == port.protocols && !port.ports.empty() &&
           m.scopes == 0 && m.directions == 0 && m.via.empty() && !m.include_loopback &&
           !m.has_owner() && !m.icmp && m.addresses.empty() && !m.fragment && !m.new_connection &&
           !m.length;
}

// The first-match partition of the slots: each TCP and UDP destination port to the first class
// that names it. A class takes only the slots no earlier class took, found by skipping the taken
// ones (next_: a slot at or after each that may be free, shortened as it is walked), so 100,000
// classes cost their intervals and each slot once, not their ports each.
class SlotOwners {
  public:
    SlotOwners() : owner_(BpfPortSlots::other, none), next_(BpfPortSlots::other + 1) {
        std::iota(next_.begin(), next_.end(), std::uint32_t{0});
    }

    void take(std::size_t first, std::size_t last, std::uint32_t cls) {
        for (std::size_t slot = free_from(first); slot <= last; slot = free_from(slot + 1)) {
            owner_[slot] = cls;
            next_[slot] = static_cast<std::uint32_t>(slot + 1);
        }
    }

    // Each class's slots, as ranges of one protocol, in slot order (sorted, not overlapping).
    void ranges_into(std::vector<BpfClass>& classes) const {
        for (const SlotBase& base : slot_bases) {
            const std::size_t end = base.first + BpfPortSlots::ports;
            for (std::size_t slot = base.first; slot < end;) {
                const std::uint32_t cls = owner_[slot];
                std::size_t last = slot;
                while (last + 1 < end && owner_[last + 1] == cls) {
                    ++last;
                }
                if (cls != none) {
                    classes[cls].ports.push_back({base.protocol,
                                                  static_cast<std::uint16_t>(slot - base.first),
                                                  static_cast<std::uint16_t>(last - base.first)});
                }
                slot = last + 1;
            }
        }
    }

  private:
    static constexpr std::uint32_t none = UINT32_MAX;

    // The first free slot at or after `slot` (BpfPortSlots::other when none is).
    std::size_t free_from(std::size_t slot) {
        std::size_t root = slot;
        while (next_[root] != root) {
            root = next_[root];
        }
        while (next_[slot] != root) {
            const std::size_t after = next_[slot];
            next_[slot] = static_cast<std::uint32_t>(root);
            slot = after;
        }
        return root;
    }

    std::vector<std::uint32_t> owner_; // per slot: the class that takes it, or none
    std::vector<std::uint32_t> next_;  // BpfPortSlots::other: past the last port slot
};

} // namespace

bool bpf_eligible(const ir::Policy& policy, const ir::Classify& classify) {
    const ir::Match& scope = classify.scope;
    const bool one_direction = scope.directions == ir::dir_in || scope.directions == ir::dir_out;
    const auto counted_here = [&](const ir::Class& cls) {
        return !summed_by_quota(policy, cls.counter);
    };
    return device_only(scope) && one_direction && !classify.split_direction &&
           !classify.classes.empty() &&
           std::all_of(classify.classes.begin(), classify.classes.end(),
                       [&](const ir::Class& cls) {
                           return destination_ports_only(cls.match) && counted_here(cls);
                       }) &&
           (!classify.otherwise || counted_here(*classify.otherwise));
}

std::vector<BpfClassifyPlan> plan_bpf_classes(const ir::Policy& policy,
                                              const std::set<std::string>& nft_classes) {
    std::vector<BpfClassifyPlan> plan;
    for (const ir::Classify& classify : policy.classifies) {
        if (!bpf_eligible(policy, classify) || nft_classes.count(classify.name) != 0) {
            continue;
        }
        BpfClassifyPlan entry;
        entry.classify = classify.name;
        entry.origin = classify.origin;
        entry.device = classify.scope.via.front();
        const bool in = classify.scope.directions == ir::dir_in;
        entry.hook = in ? BpfHook::ingress : BpfHook::egress;
        entry.forwarded_only = classify.scope.scopes == ir::scope_forward;
        // Names and labels as nft's counters have them (families.hpp), one per class, what the
        // device's hook sees in `wire`: a class of one protocol as nft says for it.
        const rules::CounterFamily family = classify_family(classify);
        SlotOwners owners;
        for (std::size_t i = 0; i < family.members.size(); ++i) {
            const bool otherwise = i == classify.classes.size();
            Coordinate at;
            at.member = i;
            rules::CounterObject object = counter_object(family, at);
            std::optional<std::uint8_t> protocol;
            if (!otherwise) {
                const ir::PortMatch& port = classify.classes[i].match.ports.front();
                const auto& protocols = port.protocols.parts();
                if (protocols.size() == 1 && protocols.front().lo == protocols.front().hi) {
                    protocol = static_cast<std::uint8_t>(protocols.front().lo);
                }
                for (const Interval& p : protocols) {
                    for (u128 number = p.lo; number <= p.hi; ++number) {
                        const std::size_t base = *slot_base(number);
                        for (const Interval& ports : port.ports.parts()) {
                            owners.take(base + static_cast<std::size_t>(ports.lo),
                                        base + static_cast<std::size_t>(ports.hi),
                                        static_cast<std::uint32_t>(i));
                        }
                    }
                }
            }
            see_at_tcx(object.identity, entry.device, in, !in, protocol);
            entry.classes.push_back(
                {object.name, encode_counter_comment(object.name, object.identity), {}, otherwise});
        }
        owners.ranges_into(entry.classes);
        plan.push_back(std::move(entry));
    }
    return plan;
}

ir::Policy without_bpf_classes(const ir::Policy& policy, const std::vector<BpfClassifyPlan>& plan) {
    // Every member of ir::Policy by name: one added there fails to compile here until it is
    // carried over. The classifications are copied one by one: those in BPF (100,000 classes)
    // are not copied at all.
    const auto& [name, table, connmark_mask, counters, classifies, verdicts, quotas, order,
                 uses_conntrack] = policy;
    ir::Policy out{name, table, connmark_mask, counters, {}, verdicts, quotas, {}, uses_conntrack};
    std::set<std::string> planned;
    for (const BpfClassifyPlan& entry : plan) {
        planned.insert(entry.classify);
    }
    // Old index -> new index (or none): order names classifications by index.
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> index(classifies.size(), none);
    for (std::size_t i = 0; i < classifies.size(); ++i) {
        if (planned.count(classifies[i].name) == 0) {
            index[i] = out.classifies.size();
            out.classifies.push_back(classifies[i]);
        }
    }
    for (const ir::Policy::Item item : order) {
        if (!item.is_classify) {
            out.order.push_back(item);
        } else if (index[item.index] != none) {
            out.order.push_back({true, index[item.index]});
        }
    }
    return out;
}

} // namespace acctc
