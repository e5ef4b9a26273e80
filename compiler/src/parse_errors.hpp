// What the parser expected at each point where the grammar commits (every must<>): the
// message becomes "expected ..." in the diagnostic.
#pragma once

#include "grammar.hpp"

#include <string>
#include <vector>

namespace acctc::grammar {

// A rule may say what it expects itself, next to its grammar: `static constexpr const char*
// expected = "...";`.
template <typename Rule>
constexpr const char* expected_of() {
    if constexpr (requires { Rule::expected; }) {
        return Rule::expected;
    } else {
        return nullptr;
    }
}

template <typename Rule>
inline constexpr const char* error_message = expected_of<Rule>();

#define ACCTC_EXPECT(rule, text)                                                                   \
    template <>                                                                                    \
    inline constexpr const char* error_message<rule> = text

ACCTC_EXPECT(statement_body, "a statement: policy, interface, network, connmark, counter, "
                             "classify, quota, accept or drop");
ACCTC_EXPECT(kw_at, "'at' (warn at 80 %)");
ACCTC_EXPECT(next_item<quota_target>, "a counter name after ','");
ACCTC_EXPECT(statement_end, "end of statement (a newline)");
ACCTC_EXPECT(statement_name, "a name (letters, digits and '_', starting with a letter)");
ACCTC_EXPECT(equals, "'='");
ACCTC_EXPECT(list_of<device_item>, "an interface name, e.g. eth0");
ACCTC_EXPECT(next_item<device_item>, "an interface name after ','");
ACCTC_EXPECT(list_of<network_value>, "an address, a network like 198.18.0.0/15, or a network name");
ACCTC_EXPECT(next_item<network_value>, "an address or network name after ','");
ACCTC_EXPECT(number_item, "a number");
ACCTC_EXPECT(kw_mask, "'mask' (connmark mask 0x00ff0000)");
ACCTC_EXPECT(counter_body, "'{' opening the counter body");
ACCTC_EXPECT(clause_end, "another clause, ';', a newline or '}'; clauses are: local, forward, "
                         "passive, in, out, via, include loopback, owner, protocol, tcp/udp/sctp/"
                         "udplite/dccp ports, icmp, icmpv6, from, to, address, fragment, new, "
                         "listen, follow connection, split, peers timeout, accept, drop");
ACCTC_EXPECT(body_close, "'}' or a clause (local, forward, passive, in, out, via, owner, "
                         "protocol, tcp, udp, icmp, from, to, address, fragment, new, listen, "
                         "follow, split, peers, accept, drop)");
ACCTC_EXPECT(classify_body, "'{' opening the classes, after optional scope clauses");
ACCTC_EXPECT(branch_end, "';', a newline or '}' after a class");
ACCTC_EXPECT(branch_colon, "':' after the class name");
ACCTC_EXPECT(otherwise_label, "the name of the class for everything else");
ACCTC_EXPECT(verdict_clauses, "at least one clause saying which packets (e.g. tcp dport 22 in)");
ACCTC_EXPECT(kw_loopback, "'loopback' (include loopback)");
ACCTC_EXPECT(owner_kind, "'user', 'group' or 'cgroup' after owner");
ACCTC_EXPECT(list_of<id_item>, "a user or group name or number");
ACCTC_EXPECT(next_item<id_item>, "a user or group name or number after ','");
ACCTC_EXPECT(string_item, "a quoted string, e.g. \"system.slice/skype.service\"");
ACCTC_EXPECT(list_of<protocol_item>, "a protocol name or number (tcp, udp, icmp, 47)");
ACCTC_EXPECT(next_item<protocol_item>, "a protocol name or number after ','");
ACCTC_EXPECT(port_list, "a port, a service name or a range (80, www, ftp-data..ftp, 1024..)");
ACCTC_EXPECT(next_item<port_item>, "a port, a service name or a range after ','");
ACCTC_EXPECT(next_item<port_protocol_item>, "tcp, udp, sctp, udplite or dccp after ','");
ACCTC_EXPECT(type_list, "an ICMP type name or number (echo-request, 8)");
ACCTC_EXPECT(next_item<type_item>, "an ICMP type name or number after ','");
ACCTC_EXPECT(list_of<addr_item>, "an address, a network, a network name or 'peers of COUNTER'");
ACCTC_EXPECT(next_item<addr_item>, "an address, a network name or 'peers of COUNTER' after ','");
ACCTC_EXPECT(kw_of, "'of' (peers of COUNTER)");
ACCTC_EXPECT(peers_name, "the name of a counter (peers of COUNTER)");
ACCTC_EXPECT(list_of<listen_item>, "a protocol and port to listen on (tcp 21212)");
ACCTC_EXPECT(next_item<listen_item>, "a protocol and port after ',' (udp 21212)");
ACCTC_EXPECT(kw_connection, "'connection' (follow connection)");
ACCTC_EXPECT(split_kind, "'protocol', 'direction', 'type', 'host' or 'opener' after split");
ACCTC_EXPECT(host_side_item, "'source', 'destination', 'local', 'remote' or 'mac' after split host");
ACCTC_EXPECT(list_of<host_within_value>, "a network or address after within");
ACCTC_EXPECT(next_item<host_within_value>, "a network or address after ','");
ACCTC_EXPECT(host_size_number, "a number of hosts after size");
ACCTC_EXPECT(kw_timeout, "'timeout' (peers timeout 1h)");
ACCTC_EXPECT(listen_port, "a port after the protocol (tcp 21212)");
ACCTC_EXPECT(duration_item, "a duration like 90s, 30m, 1h or 1d12h");

#undef ACCTC_EXPECT

// The texts of the keywords in a rule built from kw<> and sor<> (any_keyword).
template <char... Chars>
std::string keyword_text(const pegtl::ascii::string<Chars...>*) {
    return std::string{Chars...};
}
template <typename Key>
void collect_keywords(const kw<Key>*, std::vector<std::string>& out) {
    out.push_back(keyword_text(static_cast<const Key*>(nullptr)));
}
template <typename... Rules>
void collect_keywords(const sor<Rules...>*, std::vector<std::string>& out) {
    (collect_keywords(static_cast<const Rules*>(nullptr), out), ...);
}
inline const std::vector<std::string>& keyword_texts() {
    static const std::vector<std::string> texts = [] {
        std::vector<std::string> out;
        collect_keywords(static_cast<const any_keyword*>(nullptr), out);
        return out;
    }();
    return texts;
}

struct errors {
    template <typename Rule>
    static constexpr const char* message = error_message<Rule>;
};

} // namespace acctc::grammar
