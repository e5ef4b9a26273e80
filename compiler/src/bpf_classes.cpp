#include "bpf_classes.hpp"

#include "bpf_scope.hpp"
#include "families.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <set>
#include <utility>

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

// What a class is keyed by, where a program can tell it by one key: destination ports of TCP
// and/or UDP and nothing else (the port clause restricts the match's protocols to its own: `tcp
// dport 80` is protocols 6 and that port match; a protocol clause beside it that narrows them
// further is not taken), or addresses of one side and nothing else.
std::optional<BpfKey> class_key(const ir::Match& m) {
    // Every member of ir::Match by name: a member added there fails to compile here until it is
    // decided whether a key can tell it.
    [[maybe_unused]] const auto& [scopes_, directions_, via_, include_loopback_, uids_, gids_,
                                  cgroup_, protocols_, ports_, icmp_, addresses_, fragment_,
                                  new_connection_, length_] = m;
    const bool nothing_else = m.scopes == 0 && m.directions == 0 && m.via.empty() &&
                              !m.include_loopback && !m.has_owner() && !m.icmp && !m.fragment &&
                              !m.new_connection && !m.length;
    if (!nothing_else) {
        return std::nullopt;
    }
    if (m.ports.size() == 1 && m.addresses.empty()) {
        const ir::PortMatch& port = m.ports.front();
        const bool slots = port.side == ir::Side::destination && !port.protocols.empty() &&
                           all_have_slots(port.protocols) && m.protocols == port.protocols &&
                           !port.ports.empty();
        return slots ? std::optional(BpfKey::destination_port) : std::nullopt;
    }
    if (m.addresses.size() == 1 && m.ports.empty() && !m.protocols) {
        const ir::AddressMatch& address = m.addresses.front();
        if (!address.peers_of.empty() || (address.v4.empty() && address.v6.empty())) {
            return std::nullopt;
        }
        switch (address.side) {
        case ir::Side::source:
            return BpfKey::source_address;
        case ir::Side::destination:
            return BpfKey::destination_address;
        case ir::Side::either:
            break;
        }
    }
    return std::nullopt;
}

// The key every class of the classification is told by, or none.
std::optional<BpfKey> classify_key(const ir::Classify& classify) {
    std::optional<BpfKey> key;
    for (const ir::Class& cls : classify.classes) {
        const auto own = class_key(cls.match);
        if (!own || (key && *key != *own)) {
            return std::nullopt;
        }
        key = own;
    }
    return key;
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

// The first-match partition of addresses for a longest-prefix-match trie: each class puts in the
// prefixes of its addresses but those inside a prefix an earlier class put in (the earlier class
// takes them there). A prefix an earlier class left out lies inside one it put in, so checking
// those is enough; a later class's shorter prefix around an earlier one loses to it in the trie.
class PrefixOwners {
  public:
    void take(const IntervalSet& addresses, bool ipv6, std::vector<BpfPrefix>& into) {
        const unsigned width = ipv6 ? 128 : 32;
        std::vector<Prefix> added;
        for (const Interval& part : addresses.parts()) {
            for (const Prefix& prefix : to_prefixes(part, width)) {
                if (!covered(prefix, ipv6)) {
                    into.push_back(bpf_prefix(prefix, ipv6));
                    added.push_back(prefix);
                }
            }
        }
        // A class's own prefixes do not overlap: they are checked against earlier classes only.
        for (const Prefix& prefix : added) {
            lengths_[ipv6].insert(prefix.length);
            taken_[ipv6].insert({prefix.base, prefix.length});
        }
    }

  private:
    bool covered(Prefix prefix, bool ipv6) const {
        const unsigned width = ipv6 ? 128 : 32;
        for (const unsigned length : lengths_[ipv6]) {
            if (length > prefix.length) {
                break;
            }
            const u128 base = prefix.base & ~low_bits(width - length);
            if (taken_[ipv6].count({base, length}) != 0) {
                return true;
            }
        }
        return false;
    }

    static BpfPrefix bpf_prefix(Prefix prefix, bool ipv6) {
        BpfPrefix out;
        out.ipv6 = ipv6;
        out.length = static_cast<std::uint8_t>(prefix.length);
        const std::size_t bytes = ipv6 ? 16 : 4;
        for (std::size_t i = 0; i < bytes; ++i) {
            out.address[i] = static_cast<std::uint8_t>(prefix.base >> (8 * (bytes - 1 - i)));
        }
        return out;
    }

    std::set<unsigned> lengths_[2];                // per family (ipv6 = 1): lengths taken
    std::set<std::pair<u128, unsigned>> taken_[2]; // per family: base and length taken
};

} // namespace

bool bpf_eligible(const ir::Policy& policy, const ir::Classify& classify) {
    const ir::Match& scope = classify.scope;
    const bool one_direction = scope.directions == ir::dir_in || scope.directions == ir::dir_out;
    const auto counted_here = [&](const ir::Class& cls) {
        return !summed_by_quota(policy, cls.counter);
    };
    // Every class and `otherwise` has an index in the program's counts.
    const bool indices = classify.classes.size() + 1 <= bpf_max_classes;
    return device_only(scope) && one_direction && !classify.split_direction &&
           !classify.classes.empty() && indices && classify_key(classify) &&
           std::all_of(classify.classes.begin(), classify.classes.end(), counted_here) &&
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
        entry.key = *classify_key(classify);
        const rules::CounterFamily family = classify_family(classify);
        SlotOwners owners;
        PrefixOwners prefixes;
        for (std::size_t i = 0; i < family.members.size(); ++i) {
            const bool otherwise = i == classify.classes.size();
            Coordinate at;
            at.member = i;
            rules::CounterObject object = counter_object(family, at);
            std::optional<std::uint8_t> protocol;
            std::vector<BpfPrefix> owned;
            if (!otherwise && entry.key != BpfKey::destination_port) {
                const ir::AddressMatch& address = classify.classes[i].match.addresses.front();
                prefixes.take(address.v4, false, owned);
                prefixes.take(address.v6, true, owned);
            } else if (!otherwise) {
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
            entry.classes.push_back({object.name,
                                     encode_counter_comment(object.name, object.identity),
                                     {},
                                     std::move(owned),
                                     otherwise});
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
