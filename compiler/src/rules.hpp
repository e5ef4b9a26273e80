// Backend IR: the ruleset as hooks, chains and rules with typed conditions and statements.
// Lowering produces it from ir::Policy; the nft and iptables emitters print it.
#pragma once

#include "acctc/counter_labels.hpp"
#include "intervals.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctc::rules {

// prerouting: arriving packets before conntrack defragments them (priority below -400), where
// fragment counters see the fragments as they crossed the wire.
enum class Hook { input, output, forward, ingress, prerouting };

enum class Field {
    iifname,
    oifname,
    nfproto, // numbers: 4 or 6
    l4proto,
    sport, // transport source port (tcp/udp/sctp/udplite/dccp)
    dport,
    ip_saddr,
    ip_daddr,
    ip6_saddr,
    ip6_daddr,
    icmp_type,
    icmpv6_type,
    skuid,
    skgid,
    cgroup,    // names: one cgroup2 path
    fragment4, // non-first IPv4 fragment (no value)
    fragment6, // non-first IPv6 fragment (no value)
    exthdr,    // an IPv6 extension header is present (negated: missing); numbers: its protocol
    ct_new,    // conntrack state new (no value)
    ct_mark,   // mark_bit set in the conntrack mark
    to_host,   // the FIB routes the destination to this host (local, broadcast, multicast)
};

struct Condition {
    Field field = Field::iifname;
    bool negate = false;
    IntervalSet numbers;            // numeric fields
    std::vector<std::string> names; // iifname, oifname, cgroup
    std::string set;                // lookup in a named set instead of literal values
    unsigned prefix = 0;            // set lookup of an address cut to this prefix (0: whole)
    std::uint32_t mark_bit = 0;     // ct_mark
};

struct MapEntry {
    std::vector<Interval> key; // one interval per field of the key
    std::string counter;
};

struct Statement {
    enum class Kind { count, count_map, set_mark, update_set, accept, drop, jump, ret };
    Kind kind = Kind::count;
    std::string name;              // counter, set or chain
    std::vector<Field> key;        // count_map key (concatenated when several); update_set field
    std::vector<MapEntry> entries; // count_map
    std::uint32_t mark_bit = 0;    // set_mark
    unsigned prefix = 0;           // update_set of an address cut to this prefix (0: whole)
};

struct Rule {
    std::vector<Condition> conditions;
    std::vector<Statement> statements;
    std::string origin; // file:line
};

struct Chain {
    std::string name;
    std::optional<Hook> hook; // base chains only
    std::string device;       // ingress chains
    std::vector<Rule> rules;
};

// Traffic directions as a family dimension (ir::Direction is a bit mask of both).
enum class Direction { in, out };

// A named group of counters that differ only by their dimensions: a counter with its splits,
// or a classify with its classes. families.hpp expands it into kernel counter objects.
struct CounterFamily {
    struct Member {
        std::string label;  // a class of a classify
        std::string origin; // its file:line
    };
    std::string name;   // the counter or classify name; every kernel name starts with it
    std::string origin; // file:line of the declaration
    CounterKind kind = CounterKind::counter;
    std::vector<Dimension> dimensions; // in name-suffix order, e.g. protocol then direction
    // The values of each dimension in `dimensions`; the others are unused.
    std::vector<Direction> directions;
    std::vector<std::uint8_t> protocols;
    std::vector<std::uint8_t> icmp_types;
    bool icmp_v6 = false; // icmp_types are ICMPv6 types
    std::vector<Member> members;
};

// One kernel counter object: its name and what the runtime reads back from its comment.
struct CounterObject {
    std::string name;
    CounterIdentity identity; // family, labels, origin
};

struct DynamicSet {
    std::string name;
    bool v6 = false;
    std::uint64_t timeout_seconds = 3600; // 0: elements stay until deleted
    std::string origin;
    std::uint64_t size = 65535;
    // Per-host counters (`split host`): every element carries a counter, and the set's comment
    // names the family and labels its elements' counts belong to (as a counter object's does).
    std::optional<CounterIdentity> identity;
};

struct Table {
    std::string name;
    std::string policy;
    std::vector<CounterFamily> families;
    std::vector<CounterObject> counters; // every family expanded, in family order
    std::vector<DynamicSet> sets;
    std::vector<Chain> chains;
};

} // namespace acctc::rules
