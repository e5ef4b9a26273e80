#include "well_known.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace acctc {
namespace {

struct Named {
    std::string_view name;
    std::uint8_t number;
};

// Names as nftables spells them (its "inet_protocol" and ICMP type symbol tables).
constexpr std::array protocols{
    Named{"icmp", 1},   Named{"igmp", 2},      Named{"ipip", 4},   Named{"tcp", 6},
    Named{"egp", 8},    Named{"udp", 17},      Named{"ipv6", 41},  Named{"rsvp", 46},
    Named{"gre", 47},   Named{"esp", 50},      Named{"ah", 51},    Named{"icmpv6", 58},
    Named{"ospf", 89},  Named{"pim", 103},     Named{"vrrp", 112}, Named{"l2tp", 115},
    Named{"sctp", 132}, Named{"udplite", 136}, Named{"dccp", 33},  Named{"comp", 108},
};

constexpr std::array icmp_types{
    Named{"echo-reply", 0},           Named{"destination-unreachable", 3},
    Named{"source-quench", 4},        Named{"redirect", 5},
    Named{"echo-request", 8},         Named{"router-advertisement", 9},
    Named{"router-solicitation", 10}, Named{"time-exceeded", 11},
    Named{"parameter-problem", 12},   Named{"timestamp-request", 13},
    Named{"timestamp-reply", 14},     Named{"info-request", 15},
    Named{"info-reply", 16},          Named{"address-mask-request", 17},
    Named{"address-mask-reply", 18},
};

constexpr std::array icmpv6_types{
    Named{"destination-unreachable", 1}, Named{"packet-too-big", 2},
    Named{"time-exceeded", 3},           Named{"parameter-problem", 4},
    Named{"echo-request", 128},          Named{"echo-reply", 129},
    Named{"mld-listener-query", 130},    Named{"mld-listener-report", 131},
    Named{"mld-listener-done", 132},     Named{"nd-router-solicit", 133},
    Named{"nd-router-advert", 134},      Named{"nd-neighbor-solicit", 135},
    Named{"nd-neighbor-advert", 136},    Named{"nd-redirect", 137},
    Named{"router-renumbering", 138},    Named{"ind-neighbor-solicit", 141},
    Named{"ind-neighbor-advert", 142},   Named{"mld2-listener-report", 143},
};

// Measured on nftables 1.0.6 (Debian bookworm): every word of nft(8) declared as a counter
// name with `nft -c`, and every word its parser's token table names (`strings
// libnftables.so`: rt0, meter, ...); these are the ones it rejects. Sorted for binary search.
constexpr std::array<std::string_view, 146> nft_keywords{
    "accept",    "add",        "ah",       "all",      "and",      "arp",       "bridge",
    "bytes",     "cgroup",     "chain",    "comment",  "comp",     "constant",  "continue",
    "counter",   "cpu",        "create",   "ct",       "day",      "dccp",      "define",
    "delete",    "describe",   "device",   "devices",  "dnat",     "drop",      "dst",
    "dup",       "dynamic",    "ecn",      "element",  "elements", "esp",       "ether",
    "exists",    "expires",    "export",   "exthdr",   "fib",      "flags",     "flow",
    "flowtable", "flush",      "frag",     "fwd",      "get",      "goto",      "handle",
    "hbh",       "hook",       "hour",     "ibriport", "ibrname",  "icmp",      "icmpv6",
    "igmp",      "iif",        "iifgroup", "iifname",  "iiftype",  "import",    "include",
    "index",     "inet",       "insert",   "interval", "ip",       "ip6",       "ipsec",
    "jhash",     "jump",       "limit",    "list",     "log",      "lt",        "map",
    "mark",      "masquerade", "meta",     "meter",    "mh",       "missing",   "monitor",
    "name",      "netdev",     "nftrace",  "not",      "notrack",  "numgen",    "obriport",
    "obrname",   "offload",    "oif",      "oifgroup", "oifname",  "oiftype",   "or",
    "osf",       "packets",    "pkttype",  "policy",   "position", "priority",  "queue",
    "quota",     "random",     "redefine", "redirect", "reject",   "rename",    "replace",
    "reset",     "return",     "rt",       "rt0",      "rt2",      "rtclassid", "rule",
    "ruleset",   "sctp",       "secmark",  "set",      "size",     "skgid",     "skuid",
    "snat",      "socket",     "srh",      "symhash",  "synproxy", "table",     "tcp",
    "th",        "time",       "timeout",  "tproxy",   "type",     "typeof",    "udp",
    "udplite",   "undefine",   "update",   "vlan",     "vmap",     "xt"};

template <typename Table>
std::optional<std::uint8_t> lookup(const Table& table, std::string_view name) {
    for (const auto& entry : table) {
        if (entry.name == name) {
            return entry.number;
        }
    }
    return std::nullopt;
}

template <typename Table>
std::string reverse(const Table& table, std::uint8_t number) {
    for (const auto& entry : table) {
        if (entry.number == number) {
            return std::string(entry.name);
        }
    }
    return std::to_string(number);
}

// nft's `exthdr` names, which are also the ip6tables match modules that find the same header.
constexpr std::array skipped_headers{Named{"hbh", 0}, Named{"rt", 43}, Named{"frag", 44},
                                     Named{"dst", 60}};

// Accepted in policies but printed as numbers: nft resolves these names through the host's
// /etc/protocols, which may not have them.
constexpr std::array input_only_protocols{Named{"ipv6-icmp", 58}, Named{"hopopt", 0},
                                          Named{"ipv6-route", 43}, Named{"ipv6-frag", 44},
                                          Named{"ipv6-opts", 60}};

} // namespace

std::optional<std::uint8_t> protocol_number(std::string_view name) {
    if (auto found = lookup(input_only_protocols, name)) {
        return found;
    }
    return lookup(protocols, name);
}

const IntervalSet& skipped_ipv6_headers() {
    static const IntervalSet headers = [] {
        IntervalSet set;
        for (const auto& header : skipped_headers) {
            set.add(header.number, header.number);
        }
        return set;
    }();
    return headers;
}

std::string_view skipped_ipv6_header_name(std::uint8_t number) {
    for (const auto& header : skipped_headers) {
        if (header.number == number) {
            return header.name;
        }
    }
    return {};
}

bool is_nft_keyword(std::string_view name) {
    return std::binary_search(nft_keywords.begin(), nft_keywords.end(), name);
}

std::string protocol_name(std::uint8_t number) {
    return reverse(protocols, number);
}

bool protocol_has_ports(std::uint8_t number) {
    return number == proto_tcp || number == proto_udp || number == 132 || number == 136 ||
           number == 33;
}

std::optional<std::uint8_t> icmp_type_number(std::string_view name, bool v6) {
    return v6 ? lookup(icmpv6_types, name) : lookup(icmp_types, name);
}

std::string icmp_type_name(std::uint8_t number, bool v6) {
    return v6 ? reverse(icmpv6_types, number) : reverse(icmp_types, number);
}

} // namespace acctc
