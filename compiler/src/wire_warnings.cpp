#include "wire_warnings.hpp"

#include "wire_differences.hpp"

#include <string>
#include <vector>

namespace acctc {
namespace {

// "the input and forward hooks", "the input hook", ...
std::string hook_list(bool input, bool forward) {
    if (input && forward) {
        return "the input and forward hooks";
    }
    return input ? "the input hook" : "the forward hook";
}

// Counters that differ from the wire for the same general reason, reported once per policy and
// reason at the first of them: a warning per counter would bury a policy of many counters in
// repeats.
class Groups {
  public:
    void add(const ir::Counter& counter, const std::string& reason, const std::string& tail) {
        for (auto& group : groups_) {
            if (group.reason == reason) {
                group.counters.push_back(&counter);
                return;
            }
        }
        groups_.push_back({reason, tail, {&counter}});
    }

    void report(Diagnostics& diag) const {
        constexpr std::size_t named = 8;
        for (const auto& group : groups_) {
            const auto& counters = group.counters;
            std::string names;
            for (std::size_t i = 0; i < counters.size() && i < named; ++i) {
                names += (i == 0 ? "" : ", ") + counters[i]->name;
            }
            if (counters.size() > named) {
                names += " and " + std::to_string(counters.size() - named) + " more";
            }
            const bool one = counters.size() == 1;
            diag.warning(counters.front()->range,
                         (one ? "counter " : "counters ") + names + ": " + group.reason + ": " +
                             (one ? "it counts " : "they count ") + group.tail);
        }
    }

  private:
    struct Group {
        std::string reason;
        std::string tail;
        std::vector<const ir::Counter*> counters;
    };
    std::vector<Group> groups_;
};

} // namespace

void warn_wire_differences(const ir::Policy& policy, bool egress,
                           const std::set<std::string>& corrected, Diagnostics& diag) {
    if (diag.has_errors()) {
        return; // nothing will be counted: the errors are what to read
    }
    using enum WireDifference;
    Groups groups;
    const std::string fewer = "fewer packets than the wire carries, and fewer bytes by the "
                              "headers of each missing packet (docs/counting.md)";
    for (const auto& counter : policy.counters) {
        const ir::Match& m = counter.match;
        if (m.scopes == ir::scope_passive) {
            continue; // the ingress hook sees the frames as they arrive
        }
        // The facts are counter_wire_sides()'; the hooks only word them.
        const rules::WireSides sides = counter_wire_sides(counter, policy, egress);
        const WireDifferences& arriving = sides.arriving.differences;
        const WireDifferences& leaving = sides.leaving.differences;
        const bool at_egress = counts_leaving_at_egress(counter, policy, egress);
        const Hooks h = hooks_of(m);
        if (m.fragment) {
            std::vector<std::string> reasons;
            if (leaving.has(fragmentation) && h.output) {
                reasons.push_back("this host fragments its own datagrams after the output hook");
            }
            if (leaving.has(fragmentation) && h.forward) {
                reasons.push_back("a datagram this router fragments for a smaller-MTU link is "
                                  "fragmented after the forward hook");
                if (!counter.follow && policy.uses_conntrack) {
                    reasons.push_back("connection tracking (follow, listen or new in this "
                                      "policy) reassembles forwarded fragments before the "
                                      "forward hook and the kernel fragments them again after it");
                }
            }
            if (arriving.has(reassembly)) {
                reasons.push_back("a followed counter counts after connection tracking, which "
                                  "reassembles arriving fragments of both families before " +
                                  hook_list(h.input, h.forward));
            }
            std::string message =
                "counter " + counter.name + " counts fewer fragments than the wire carries: ";
            for (std::size_t i = 0; i < reasons.size(); ++i) {
                message += (i == 0 ? "" : "; ") + reasons[i];
            }
            if (!reasons.empty()) {
                diag.warning(counter.range, message);
            }
            continue;
        }
        // What leaves this host is counted before the kernel cuts it up for the wire: TCP
        // always builds segmentation-offload packets (even with GSO and TSO off on the device;
        // measured 7 output-hook packets for 18 on the wire for a 20 kB write; the egress hook
        // sees them whole too), and datagrams larger than the MTU are fragmented after the
        // output hook (not before egress: at_egress counters see the fragments).
        const bool gso = leaving.has(segmentation_offload) && !corrected.contains(counter.name);
        const bool fragmented = leaving.has(fragmentation) && h.output;
        if (gso || fragmented) {
            std::string what;
            if (gso) {
                what = "TCP segmentation-offload packets of up to 64 KB, cut into MSS-sized "
                       "segments after it";
            }
            if (fragmented) {
                what += std::string(what.empty() ? "" : ", and ") +
                        "datagrams larger than the MTU whole, fragmented after it";
            }
            groups.add(counter,
                       std::string(at_egress ? "the egress hook" : "the output hook") + " sees " +
                           what,
                       fewer);
        }
        if (arriving.has(reassembly) || leaving.has(reassembly)) {
            // Before the forward hook: what a router forwards in either direction, unless its
            // leaving side is counted at egress (refragmented by then).
            const bool forward = h.forward && (arriving.has(reassembly) || !at_egress);
            groups.add(counter,
                       "this policy uses connection tracking (follow, listen or new), which "
                       "reassembles arriving fragmented datagrams before " +
                           hook_list(h.input && arriving.has(reassembly), forward),
                       "such a datagram as one packet of its reassembled length, one packet and "
                       "one IP header per further fragment less than the wire carried "
                       "(docs/counting.md)");
        }
    }
    groups.report(diag);
}

} // namespace acctc
