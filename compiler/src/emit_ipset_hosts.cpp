#include "emit_ipset_hosts.hpp"

#include "acctc/ipset_host_comment.hpp"

namespace acctc::ipset_hosts {

namespace {

// ipset's default, and what sets of up to 1,024 hosts keep.
constexpr std::uint64_t default_hashsize = 1024;

// The buckets of a host set. The packet path's add never grows an ipset's hash (only adds from
// user space do), and a bucket holds at most 12 elements (AHASH_MAX_SIZE): with the default
// 1,024 buckets, measured on 6.18, adds from packets stopped at 12,242 hosts of a set of
// maxelem 131,072. One bucket per element of maxelem keeps every bucket far below 12 when full
// (8 bytes a bucket: 512 KiB at 65,536); capped at 2^20 buckets.
std::uint64_t hashsize(const rules::DynamicSet& set) {
    std::uint64_t buckets = default_hashsize;
    while (buckets < set.size && buckets < (std::uint64_t{1} << 20)) {
        buckets *= 2;
    }
    return buckets;
}

} // namespace

std::string role(const rules::DynamicSet& set) {
    // Sets with more buckets than the default have their own names: `ipset -exist restore`
    // refuses to meet a set of the same name with another hashsize (one made before it was set).
    const std::uint64_t buckets = hashsize(set);
    return "h-" + set.counter +
           (set.mac  ? "-m-"
            : set.v6 ? "-6-"
                     : "-4-") +
           std::to_string(set.prefix) + "-" + std::to_string(set.size) +
           (buckets == default_hashsize ? "" : "-b" + std::to_string(buckets));
}

std::string create_line(const std::string& ipset, const rules::DynamicSet& set) {
    const std::string sized = " hashsize " + std::to_string(hashsize(set)) + " maxelem " +
                              std::to_string(set.size) + " counters";
    if (set.mac) {
        // One set for both families: hash:mac has none, and reads the frame's source address.
        return "create " + ipset + " hash:mac" + sized + "\n";
    }
    const unsigned width = set.v6 ? 128 : 32;
    std::string line = "create " + ipset + " hash:ip family " + (set.v6 ? "inet6" : "inet") + sized;
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
