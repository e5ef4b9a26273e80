#include "emit_ipset_hosts.hpp"

#include "acctc/ipset_host_comment.hpp"

namespace acctc::ipset_hosts {

std::string role(const rules::DynamicSet& set) {
    return "h-" + set.counter +
           (set.mac  ? "-m-"
            : set.v6 ? "-6-"
                     : "-4-") +
           std::to_string(set.prefix) + "-" + std::to_string(set.size);
}

std::string create_line(const std::string& ipset, const rules::DynamicSet& set) {
    if (set.mac) {
        // One set for both families: hash:mac has none, and reads the frame's source address.
        return "create " + ipset + " hash:mac maxelem " + std::to_string(set.size) + " counters\n";
    }
    const unsigned width = set.v6 ? 128 : 32;
    std::string line = "create " + ipset + " hash:ip family " + (set.v6 ? "inet6" : "inet") +
                       " maxelem " + std::to_string(set.size) + " counters";
    if (set.prefix != 0 && set.prefix < width) {
        line += " netmask " + std::to_string(set.prefix);
    }
    return line + "\n";
}

std::string lookup(const std::string& ipset, bool source, bool negate, bool counting) {
    return std::string(negate ? "! " : "") + "--match-set " + ipset + (source ? " src" : " dst") +
           (counting ? " ! --update-counters" : "");
}

std::vector<UpdateRule> update_rules(const std::string& ipset, bool source,
                                     const rules::DynamicSet& set, const std::string& origin,
                                     bool then_return) {
    const std::string direction = source ? " src" : " dst";
    const std::string back = then_return ? "-j RETURN" : "";
    // Two packets of one new host on two CPUs at once: both miss, the second add fails (the
    // host exists) and that packet is not counted (docs/iptables.md); nft's update has no gap.
    std::vector<UpdateRule> rules{
        {"--match-set " + ipset + direction,
         encode_ipset_host_comment(ipset, set.counter, *set.identity), back},
        {lookup(ipset, source, true, true), origin, "-j SET --add-set " + ipset + direction},
    };
    if (then_return) {
        // Added (and counted by the add): return. A full set refused the add: on to what
        // follows, the overflow counter.
        rules.push_back({lookup(ipset, source, false, true), origin, back});
    }
    return rules;
}

} // namespace acctc::ipset_hosts
