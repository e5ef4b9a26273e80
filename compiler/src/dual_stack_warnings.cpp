#include "dual_stack_warnings.hpp"

namespace acctc {
namespace {

constexpr std::uint8_t echo_request_v4 = 8;
constexpr std::uint8_t echo_request_v6 = 128;

const ir::Match& match_of(const ir::Policy& policy, const ir::VerdictRule& rule) {
    return rule.counter == static_cast<std::size_t>(-1) ? rule.match
                                                        : policy.counters[rule.counter].match;
}

// Whether the drop takes echo requests of that family (addresses of only the other family
// make it family-specific on purpose).
bool drops_pings(const ir::Match& m, bool v6) {
    if (!m.icmp || m.icmp->v6 != v6 ||
        (!m.icmp->types.empty() &&
         !m.icmp->types.contains(v6 ? echo_request_v6 : echo_request_v4))) {
        return false;
    }
    for (const auto& address : m.addresses) {
        if (address.peers_of.empty() && (v6 ? address.v4.empty() : address.v6.empty())) {
            return false; // this family's addresses only: the other family is left alone
        }
    }
    return true;
}

} // namespace

void warn_single_family_pings(const ir::Policy& policy, Diagnostics& diag) {
    if (diag.has_errors()) {
        return;
    }
    bool drops[2] = {false, false};
    for (const auto& rule : policy.verdicts) {
        if (rule.verdict == ir::Verdict::drop) {
            for (bool v6 : {false, true}) {
                drops[v6] = drops[v6] || drops_pings(match_of(policy, rule), v6);
            }
        }
    }
    if (drops[0] == drops[1]) {
        return;
    }
    for (const auto& rule : policy.verdicts) {
        const bool v6 = drops[1];
        if (rule.verdict == ir::Verdict::drop && drops_pings(match_of(policy, rule), v6)) {
            diag.warning(
                rule.range,
                std::string("this drops echo requests of ") + (v6 ? "IPv6" : "IPv4") + " only (`" +
                    (v6 ? "icmpv6" : "icmp") + "` is ICMP of " + (v6 ? "IPv6" : "IPv4") +
                    "): " + (v6 ? "IPv4" : "IPv6") + " pings pass; add the same drop with `" +
                    (v6 ? "icmp echo-request" : "icmpv6 echo-request") + "` for a dual-stack host");
        }
    }
}

} // namespace acctc
