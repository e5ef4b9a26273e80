// Backend IR: the ruleset as hooks, chains and rules with typed conditions and statements.
// Lowering produces it from ir::Policy; the nft and iptables emitters print it.
#pragma once

#include "acctc/counter_labels.hpp"
#include "acctc/quota_comment.hpp"
#include "intervals.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctc::rules {

// prerouting: arriving packets before conntrack defragments them (priority below -400), where
// fragment counters see the fragments as they crossed the wire. egress: a device's netdev egress
// hook, after fragmentation, where leaving packets are as the wire carries them (nft only: a
// table of its own per device, emit_nft.hpp).
enum class Hook { input, output, forward, ingress, prerouting, egress };

// The hook's nft name, which is also the name of acctc's base chain on it (ingress chains are
// per device: naming.hpp).
constexpr const char* hook_name(Hook hook) {
    switch (hook) {
    case Hook::input:
        return "input";
    case Hook::output:
        return "output";
    case Hook::forward:
        return "forward";
    case Hook::ingress:
        return "ingress";
    case Hook::prerouting:
        return "prerouting";
    case Hook::egress:
        return "egress";
    }
    return "";
}

// What a rule can match on. Every field has one row in `field_table` below: adding one here
// without its row fails to compile.
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
    ct_orig,   // conntrack direction original: the way the first packet went (no value)
    ct_reply,  // conntrack direction reply: the other way (no value)
    to_host,   // the FIB routes the destination to this host (local, broadcast, multicast)
    length4,   // IPv4 total length (header included)
    length6,   // IPv6 header (40 bytes) plus payload length
    // The source MAC of an arriving frame: only a `split host mac` set key.
    ether_saddr,
    packet_mark, // mark_bit set in the packet's (skb) mark: forwarded, at egress chains
    l3proto,     // the link layer's protocol (EtherType) at egress chains: 0x0800 or 0x86dd
    count_,      // not a field: the number of fields
};

inline constexpr std::size_t field_count = static_cast<std::size_t>(Field::count_);

// Which address family a field exists in.
enum class FieldFamily { any, ipv4, ipv6 };

// What a condition on the field holds.
enum class ValueKind {
    numbers, // Condition::numbers (or a named set)
    names,   // Condition::names
    flag,    // nothing: the condition is the field's presence
    mark,    // Condition::mark_bit
};

// How nft spells one value of a numeric field.
enum class Spelling { number, protocol, icmp_type, icmpv6_type, address, nfproto };

// How iptables matches a field: range_option is a match module option taking MIN:MAX (or
// MIN-MAX) from the row's iptables_* columns; every other form is code of its own in the
// iptables emitter, a `switch` without `default` (a new form without its code fails to build).
enum class IptablesForm {
    range_option,
    interface, // -i / -o
    family,    // which of the two texts
    protocol,  // -p
    port,      // -m tcp/udp/... or multiport
    address,   // -s / -d, iprange, set
    icmp_type,
    cgroup,
    fragment4, // -f
    fragment6, // -m frag
    exthdr,
    ct_new,
    ctdir, // -m conntrack --ctdir, the direction in iptables_option
    connmark,
    fib,    // none: prerouting chains, which iptables lowering never makes
    mac,    // set lookups only (`-m set ... src` in a hash:mac ipset)
    egress, // none: egress chains, which iptables lowering never makes
};

// The facts about one field, used by the lowering (map keys, families) and both emitters.
struct FieldInfo {
    Field field;
    const char* name; // stable text for dumps and messages
    FieldFamily family;
    unsigned width; // bits of a value; 0 without numbers
    ValueKind value;
    Spelling spelling;
    const char* nft;     // nft expression; empty when the nft emitter spells it itself
    unsigned nft_offset; // subtracted from values for nft (ip6 length excludes the header)
    bool map_key;        // a classify map may be keyed by it
    bool needs_protocol; // as a map key, it depends on an l4proto condition (ports)
    // Read from the transport header, which a fragment past the first does not carry: such a
    // fragment must match no condition on it (the nft emitter guards it: emit_nft.cpp).
    bool transport_header;
    Field other_family;    // the same meaning in the other family (itself if none)
    IptablesForm iptables; // range_option: `-m MODULE OPTION MIN<sep>MAX`
    const char* iptables_module;
    const char* iptables_option;
    char iptables_range; // separator of a range in iptables_option
};

// One row per Field, in enum order (checked below).
inline constexpr FieldInfo field_table[] = {
    // clang-format off
    {Field::iifname, "iifname", FieldFamily::any, 0, ValueKind::names, Spelling::number, "iifname", 0, false, false, false, Field::iifname, IptablesForm::interface, "", "", 0},
    {Field::oifname, "oifname", FieldFamily::any, 0, ValueKind::names, Spelling::number, "oifname", 0, false, false, false, Field::oifname, IptablesForm::interface, "", "", 0},
    {Field::nfproto, "nfproto", FieldFamily::any, 8, ValueKind::numbers, Spelling::nfproto, "meta nfproto", 0, false, false, false, Field::nfproto, IptablesForm::family, "", "", 0},
    {Field::l4proto, "l4proto", FieldFamily::any, 8, ValueKind::numbers, Spelling::protocol, "meta l4proto", 0, true, false, false, Field::l4proto, IptablesForm::protocol, "", "", 0},
    {Field::sport, "sport", FieldFamily::any, 16, ValueKind::numbers, Spelling::number, "th sport", 0, true, true, true, Field::sport, IptablesForm::port, "", "", 0},
    {Field::dport, "dport", FieldFamily::any, 16, ValueKind::numbers, Spelling::number, "th dport", 0, true, true, true, Field::dport, IptablesForm::port, "", "", 0},
    {Field::ip_saddr, "ip_saddr", FieldFamily::ipv4, 32, ValueKind::numbers, Spelling::address, "ip saddr", 0, true, false, false, Field::ip6_saddr, IptablesForm::address, "", "", 0},
    {Field::ip_daddr, "ip_daddr", FieldFamily::ipv4, 32, ValueKind::numbers, Spelling::address, "ip daddr", 0, true, false, false, Field::ip6_daddr, IptablesForm::address, "", "", 0},
    {Field::ip6_saddr, "ip6_saddr", FieldFamily::ipv6, 128, ValueKind::numbers, Spelling::address, "ip6 saddr", 0, true, false, false, Field::ip_saddr, IptablesForm::address, "", "", 0},
    {Field::ip6_daddr, "ip6_daddr", FieldFamily::ipv6, 128, ValueKind::numbers, Spelling::address, "ip6 daddr", 0, true, false, false, Field::ip_daddr, IptablesForm::address, "", "", 0},
    {Field::icmp_type, "icmp_type", FieldFamily::ipv4, 8, ValueKind::numbers, Spelling::icmp_type, "icmp type", 0, true, false, true, Field::icmp_type, IptablesForm::icmp_type, "", "", 0},
    {Field::icmpv6_type, "icmpv6_type", FieldFamily::ipv6, 8, ValueKind::numbers, Spelling::icmpv6_type, "icmpv6 type", 0, true, false, true, Field::icmpv6_type, IptablesForm::icmp_type, "", "", 0},
    {Field::skuid, "skuid", FieldFamily::any, 32, ValueKind::numbers, Spelling::number, "meta skuid", 0, true, false, false, Field::skuid, IptablesForm::range_option, "owner", "--uid-owner", '-'},
    {Field::skgid, "skgid", FieldFamily::any, 32, ValueKind::numbers, Spelling::number, "meta skgid", 0, true, false, false, Field::skgid, IptablesForm::range_option, "owner", "--gid-owner", '-'},
    {Field::cgroup, "cgroup", FieldFamily::any, 0, ValueKind::names, Spelling::number, "", 0, false, false, false, Field::cgroup, IptablesForm::cgroup, "", "", 0},
    {Field::fragment4, "fragment4", FieldFamily::ipv4, 0, ValueKind::flag, Spelling::number, "ip frag-off & 0x1fff != 0", 0, false, false, false, Field::fragment6, IptablesForm::fragment4, "", "", 0},
    {Field::fragment6, "fragment6", FieldFamily::ipv6, 0, ValueKind::flag, Spelling::number, "frag frag-off != 0", 0, false, false, false, Field::fragment4, IptablesForm::fragment6, "", "", 0},
    {Field::exthdr, "exthdr", FieldFamily::ipv6, 8, ValueKind::numbers, Spelling::number, "", 0, false, false, false, Field::exthdr, IptablesForm::exthdr, "", "", 0},
    {Field::ct_new, "ct_new", FieldFamily::any, 0, ValueKind::flag, Spelling::number, "ct state new", 0, false, false, false, Field::ct_new, IptablesForm::ct_new, "", "", 0},
    {Field::ct_mark, "ct_mark", FieldFamily::any, 32, ValueKind::mark, Spelling::number, "", 0, false, false, false, Field::ct_mark, IptablesForm::connmark, "", "", 0},
    {Field::ct_orig, "ct_orig", FieldFamily::any, 0, ValueKind::flag, Spelling::number, "ct direction original", 0, false, false, false, Field::ct_orig, IptablesForm::ctdir, "conntrack", "--ctdir ORIGINAL", 0},
    {Field::ct_reply, "ct_reply", FieldFamily::any, 0, ValueKind::flag, Spelling::number, "ct direction reply", 0, false, false, false, Field::ct_reply, IptablesForm::ctdir, "conntrack", "--ctdir REPLY", 0},
    {Field::to_host, "to_host", FieldFamily::any, 0, ValueKind::flag, Spelling::number, "fib daddr type", 0, false, false, false, Field::to_host, IptablesForm::fib, "", "", 0},
    {Field::length4, "length4", FieldFamily::ipv4, 16, ValueKind::numbers, Spelling::number, "ip length", 0, false, false, false, Field::length6, IptablesForm::range_option, "length", "--length", ':'},
    {Field::length6, "length6", FieldFamily::ipv6, 16, ValueKind::numbers, Spelling::number, "ip6 length", 40, false, false, false, Field::length4, IptablesForm::range_option, "length", "--length", ':'},
    {Field::ether_saddr, "ether_saddr", FieldFamily::any, 48, ValueKind::numbers, Spelling::number, "ether saddr", 0, false, false, false, Field::ether_saddr, IptablesForm::mac, "", "", 0},
    {Field::packet_mark, "packet_mark", FieldFamily::any, 32, ValueKind::mark, Spelling::number, "meta mark", 0, false, false, false, Field::packet_mark, IptablesForm::egress, "", "", 0},
    {Field::l3proto, "l3proto", FieldFamily::any, 16, ValueKind::numbers, Spelling::number, "meta protocol", 0, false, false, false, Field::l3proto, IptablesForm::egress, "", "", 0},
    // clang-format on
};

constexpr bool rows_in_enum_order() {
    for (std::size_t i = 0; i < std::size(field_table); ++i) {
        if (field_table[i].field != static_cast<Field>(i)) {
            return false;
        }
    }
    return true;
}
static_assert(std::size(field_table) == field_count,
              "every rules::Field needs its field_table row");
static_assert(rows_in_enum_order(), "field_table rows are in rules::Field order");

constexpr const FieldInfo& info(Field field) {
    return field_table[static_cast<std::size_t>(field)];
}

struct Condition {
    Field field = Field::iifname;
    bool negate = false;
    IntervalSet numbers;            // numeric fields
    std::vector<std::string> names; // iifname, oifname, cgroup
    std::string set;                // lookup in a named set instead of literal values
    unsigned prefix = 0;            // set lookup of an address cut to this prefix (0: whole)
    std::uint32_t mark_bit = 0;     // ct_mark, packet_mark
};

struct MapEntry {
    std::vector<Interval> key; // one interval per field of the key
    std::string counter;       // or the chain of a hash_goto
};

struct Statement {
    // quota / quota_map charge a packet to a named quota object (quotas.hpp), as count and
    // count_map do to a counter; MapEntry::counter then names the quota object.
    // mark_packet / unmark_packet set and clear mark_bit in the packet's (skb) mark: forwarded
    // packets carry it from the forward hook to the egress chains (lower.cpp).
    enum class Kind {
        count,
        count_map,
        quota,
        quota_map,
        set_mark,
        mark_packet,
        unmark_packet,
        update_set,
        // `split host` parts (nft only): go to entries[h].counter, a chain, where h is a hash
        // of the key (cut to prefix) modulo entries.size().
        hash_goto,
        // Large classifications as element counters (nft only, element_counters.hpp): look the
        // key up in set `name` (a CountingSet), whose matched element counts the packet;
        // `dispatch` goes to chain entries[h].counter, h the kernel's jhash of the key (its
        // fields concatenated) with seed 0, modulo entries.size(); `go` goes to chain `name`.
        count_elements,
        dispatch,
        go,
        accept,
        drop,
        jump,
        ret
    };
    Kind kind = Kind::count;
    std::string name;              // counter, quota object, set or chain
    std::vector<Field> key;        // *_map key (concatenated when several); update_set field
                                   // and hash_goto field
    std::vector<MapEntry> entries; // count_map, quota_map, hash_goto
    std::uint32_t mark_bit = 0;    // set_mark, mark_packet, unmark_packet
    unsigned prefix = 0; // update_set / hash_goto of an address cut to this prefix (0: whole)
};

struct Rule {
    std::vector<Condition> conditions;
    std::vector<Statement> statements;
    std::string origin; // file:line
};

struct Chain {
    std::string name;
    std::optional<Hook> hook; // base chains only
    std::string device;       // ingress and egress chains
    std::vector<Rule> rules;
};

// Traffic directions as a family dimension (ir::Direction is a bit mask of both).
enum class Direction { in, out };

// Who opened a followed connection (`split opener`): this side or the peer.
enum class Opener { local, remote };

// A named group of counters that differ only by their dimensions: a counter with its splits,
// or a classify with its classes. families.hpp expands it into kernel counter objects.
// The differences of what a counter counts at its hooks, per side: what arrives (input,
// forward from any device, ingress) and what leaves (output). A forwarded packet arrived
// through GRO whichever side the counter names, so forwarding puts receive merging on both.
struct WireSide {
    WireDifferences differences;
    // The devices whose receive offloads decide WireDifference::receive_offload: the `via`
    // list where it names the device packets arrived through; empty: any device.
    std::vector<std::string> receive_devices;

    // Both sides in one counter (no direction split): any device if either side says so.
    WireSide joined(const WireSide& other) const;
};

struct WireSides {
    WireSide arriving; // direction in
    WireSide leaving;  // direction out
};

struct CounterFamily {
    struct Member {
        std::string label;  // a class of a classify
        std::string origin; // its file:line
        WireSides wire;     // the class's own protocols decide some
    };
    std::string name;   // the counter or classify name; every kernel name starts with it
    std::string origin; // file:line of the declaration
    CounterKind kind = CounterKind::counter;
    std::vector<Dimension> dimensions; // in name-suffix order, e.g. protocol then direction
    // The values of each dimension in `dimensions`; the others are unused.
    std::vector<Direction> directions;
    std::vector<std::uint8_t> protocols;
    std::vector<std::uint8_t> icmp_types;
    std::vector<Opener> openers;
    bool icmp_v6 = false; // icmp_types are ICMPv6 types
    std::vector<Member> members;
    WireSides wire; // of a counter; a classify's are its members'
};

// One kernel counter object: its name and what the runtime reads back from its comment.
struct CounterObject {
    std::string name;
    CounterIdentity identity; // family, labels, origin
    // Counted by elements of counting sets (element_counters.hpp), not by a counter object:
    // not declared; each of its elements carries its name and identity in its comment.
    bool element = false;
};

// A constant set whose every element has a counter (`counter` in the declaration): a large
// classification's part (element_counters.hpp). Each element is a point of the key and names
// the counter (a CounterObject with `element`) it counts for.
struct CountingSet {
    std::string name;
    std::vector<Field> key; // concatenated
    std::vector<MapEntry> elements;
    std::vector<std::size_t> counters; // each element's counter: an index into Table::counters
    std::vector<std::string> comments; // each element's comment (element_comment())
    std::vector<std::string> hashed;   // each element's key as the kernel hashes it (hashed_key())
    std::string origin;
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
    std::string counter; // split host: the counter name the elements report under
    unsigned prefix = 0; // split host: elements are addresses cut to this prefix (0: whole)
    bool mac = false;    // split host mac: elements are MAC addresses (v6 unused)
    // A per-host quota's set: every element carries `quota over bytes` (its own budget), and
    // the set's comment is the quota's identity (with its warning level) instead.
    struct Quota {
        std::uint64_t bytes = 0;
        QuotaIdentity identity;
    };
    std::optional<Quota> quota{};
};

// A named quota object: the kernel holds the budget and what was charged to it.
struct QuotaObject {
    std::string name;
    std::uint64_t bytes = 0; // matches (`over`) once more than this was charged
    QuotaIdentity identity;  // its comment
};

struct Table {
    std::string name;
    std::string policy;
    std::vector<CounterFamily> families;
    std::vector<CounterObject> counters; // every family expanded, in family order
    std::vector<QuotaObject> quotas;
    std::vector<DynamicSet> sets;
    std::vector<CountingSet> counting_sets;
    std::vector<Chain> chains;
};

} // namespace acctc::rules
