// The comment of the iptables rule that counts a `split host` counter's hosts in an ipset
// (docs/iptables.md, "Per-host counters"): the compiler writes it, the runtime finds the host
// sets of a policy and what their elements count from it alone, as it does for counter chains.
//
//     acctc-hosts:<ipset> <counter> <metadata>
//
// <metadata> is the counter's family, labels and origin (acctc/counter_labels.hpp) and <counter>
// the name every element reports under (lan_hosts_in for the set lan_hosts_in_hosts_v4).
#pragma once

#include "acctc/counter_labels.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace acctc {

inline constexpr std::string_view ipset_host_marker = "acctc-hosts:";
inline constexpr std::size_t xt_comment_limit = 255; // xt_comment's XT_MAX_COMMENT_LEN - 1

struct IpsetHostComment {
    std::string ipset;
    std::string counter;
    CounterIdentity identity;
};

inline std::string encode_ipset_host_comment(const std::string& ipset, const std::string& counter,
                                             const CounterIdentity& identity) {
    std::string head = std::string(ipset_host_marker) + ipset + " " + counter + " ";
    return head + encode_counter_comment(counter, identity, xt_comment_limit - head.size());
}

// Empty for any other comment (counters' "acctc:...", origins "file:line").
inline std::optional<IpsetHostComment> decode_ipset_host_comment(std::string_view comment) {
    if (!comment.starts_with(ipset_host_marker)) {
        return std::nullopt;
    }
    comment.remove_prefix(ipset_host_marker.size());
    const auto first = comment.find(' ');
    const auto second = first == std::string_view::npos ? first : comment.find(' ', first + 1);
    if (second == std::string_view::npos || first == 0 || second == first + 1) {
        return std::nullopt;
    }
    IpsetHostComment out;
    out.ipset = std::string(comment.substr(0, first));
    out.counter = std::string(comment.substr(first + 1, second - first - 1));
    out.identity = decode_counter_comment(out.counter, comment.substr(second + 1));
    return out;
}

} // namespace acctc
