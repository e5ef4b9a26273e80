#include "emit_nft.hpp"

#include "element_counters.hpp"
#include "well_known.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <stdexcept>

namespace acctc {
namespace {

using rules::Condition;
using rules::Field;
using rules::Statement;

bool is_address(Field f) {
    return rules::info(f).spelling == rules::Spelling::address;
}

unsigned address_width(Field f) {
    return rules::info(f).width;
}

std::string format_address(Field f, u128 value) {
    return acctc::format_address(value, address_width(f));
}

std::string hex32(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

// One element (a value or an interval) of a field, as nft spells it.
std::string element(Field field, Interval part) {
    auto range = [&](u128 offset) {
        const auto lo = static_cast<unsigned long long>(part.lo - offset);
        const auto hi = static_cast<unsigned long long>(part.hi - offset);
        return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
    };
    switch (rules::info(field).spelling) {
    case rules::Spelling::protocol:
        return part.lo == part.hi ? protocol_name(static_cast<std::uint8_t>(part.lo)) : range(0);
    case rules::Spelling::icmp_type:
    case rules::Spelling::icmpv6_type: {
        const bool v6 = rules::info(field).spelling == rules::Spelling::icmpv6_type;
        return part.lo == part.hi ? icmp_type_name(static_cast<std::uint8_t>(part.lo), v6)
                                  : range(0);
    }
    case rules::Spelling::address: {
        const unsigned width = address_width(field);
        const auto prefixes = to_prefixes(part, width);
        if (prefixes.size() == 1) {
            std::string text = format_address(field, prefixes[0].base);
            if (prefixes[0].length != width) {
                text += '/';
                text += std::to_string(prefixes[0].length);
            }
            return text;
        }
        return format_address(field, part.lo) + "-" + format_address(field, part.hi);
    }
    case rules::Spelling::nfproto:
        return part.lo == 4 ? "ipv4" : "ipv6";
    case rules::Spelling::number:
        return range(rules::info(field).nft_offset);
    }
    return {};
}

// Addresses print as the fewest prefixes; other intervals as ranges.
std::vector<std::string> elements(Field field, const IntervalSet& values) {
    std::vector<std::string> out;
    for (const auto& part : values.parts()) {
        if (is_address(field)) {
            const unsigned width = address_width(field);
            const auto prefixes = to_prefixes(part, width);
            if (prefixes.size() <= 4) {
                for (const auto& p : prefixes) {
                    out.push_back(element(field, prefix_interval(p, width)));
                }
                continue;
            }
        }
        out.push_back(element(field, part));
    }
    return out;
}

std::string value_list(const std::vector<std::string>& items) {
    if (items.size() == 1) {
        return items.front();
    }
    std::string out = "{ ";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + items[i];
    }
    return out + " }";
}

std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
}

std::string field_expression(Field field, const std::string& port_protocol) {
    if ((field == Field::sport || field == Field::dport) && !port_protocol.empty()) {
        return port_protocol + (field == Field::sport ? " sport" : " dport");
    }
    return rules::info(field).nft;
}

// An address field, masked to a prefix when one shorter than the address is given: the key of a
// per-prefix host set (`ip saddr & 255.255.255.0`).
std::string cut_address(Field field, unsigned prefix) {
    const std::string expression = field_expression(field, "");
    const unsigned width = address_width(field);
    if (!is_address(field) || prefix == 0 || prefix >= width) {
        return expression;
    }
    const u128 all = width == 128 ? ~u128{0} : (u128{1} << width) - 1;
    const u128 host_bits = (u128{1} << (width - prefix)) - 1;
    return expression + " & " + format_address(field, all & ~host_bits);
}

std::string condition(const Condition& c, const std::string& port_protocol) {
    const std::string op = c.negate ? " != " : " ";
    switch (rules::info(c.field).value) {
    case rules::ValueKind::names: {
        if (c.field == Field::cgroup) {
            const std::string& path = c.names.front();
            const auto level = 1 + std::count(path.begin(), path.end(), '/');
            return "socket cgroupv2 level " + std::to_string(level) + op + quoted(path);
        }
        std::vector<std::string> items;
        for (const auto& name : c.names) {
            items.push_back(quoted(name));
        }
        return field_expression(c.field, "") + op + value_list(items);
    }
    case rules::ValueKind::flag:
        if (c.field == Field::to_host) { // route types, negated with `!=`
            return rules::info(c.field).nft + op + "{ local, broadcast, multicast }";
        }
        return rules::info(c.field).nft; // the lowering never negates the others for nft
    case rules::ValueKind::mark: {
        const std::string mark = c.field == Field::packet_mark ? "meta mark" : "ct mark";
        return mark + " & " + hex32(c.mark_bit) + (c.negate ? " == 0" : " == " + hex32(c.mark_bit));
    }
    case rules::ValueKind::numbers:
        break;
    }
    if (c.field == Field::exthdr) { // nft adds the `meta nfproto ipv6` it depends on
        return "exthdr " +
               std::string(
                   skipped_ipv6_header_name(static_cast<std::uint8_t>(c.numbers.parts()[0].lo))) +
               (c.negate ? " missing" : " exists");
    }
    const std::string expression = field_expression(c.field, port_protocol);
    if (!c.set.empty()) {
        return cut_address(c.field, c.prefix) + op + "@" + c.set;
    }
    return expression + op + value_list(elements(c.field, c.numbers));
}

// A single positive port protocol lets `meta l4proto tcp th dport 80` read `tcp dport 80`.
std::string port_protocol_of(const std::vector<Condition>& conditions) {
    for (const auto& c : conditions) {
        if (c.field == Field::l4proto && !c.negate && c.numbers.parts().size() == 1 &&
            c.numbers.parts()[0].lo == c.numbers.parts()[0].hi) {
            const auto p = static_cast<std::uint8_t>(c.numbers.parts()[0].lo);
            if (protocol_has_ports(p)) {
                return protocol_name(p);
            }
        }
    }
    return {};
}

// A counter map as nft reads it: the key expression and each element with its counter.
struct CounterMapText {
    std::string key;
    std::vector<std::pair<std::string, const std::string*>> elements;
};

// `what`: counter or quota, the kind of object the map's elements name.
std::string render(const CounterMapText& map, const char* what = "counter") {
    std::string out = std::string(what) + " name " + map.key + " map { ";
    // Appended piece by piece, no temporary per element: a map may hold 100,000.
    for (std::size_t e = 0; e < map.elements.size(); ++e) {
        out += e ? ", " : "";
        out += map.elements[e].first;
        out += " : \"";
        out += *map.elements[e].second;
        out += '"';
    }
    out += " }";
    return out;
}

// When every entry of an address map is made of aligned blocks of one size (a /24 per customer,
// a /30 per link), the map can be keyed by the masked address, `ip saddr & MASK`: a hash lookup
// per packet, where an interval map walks a tree. Empty when that would more than quadruple
// the elements.
std::optional<CounterMapText> masked_address_map(Field field,
                                                 const std::vector<rules::MapEntry>& entries) {
    const unsigned width = address_width(field);
    std::vector<std::pair<Prefix, const std::string*>> prefixes;
    unsigned length = 0; // of the common blocks: the longest prefix
    for (const auto& entry : entries) {
        for (const auto& prefix : to_prefixes(entry.key[0], width)) {
            length = std::max(length, prefix.length);
            prefixes.emplace_back(prefix, &entry.counter);
        }
    }
    constexpr unsigned max_split_bits = 16;
    std::size_t total = 0;
    for (const auto& [prefix, counter] : prefixes) {
        if (length - prefix.length > max_split_bits) {
            return std::nullopt;
        }
        total += std::size_t{1} << (length - prefix.length);
    }
    if (length == 0 || total > 4 * prefixes.size()) {
        return std::nullopt;
    }
    CounterMapText map{field_expression(field, ""), {}};
    if (length < width) {
        map.key += " & " + format_address(field, low_bits(width) ^ low_bits(width - length));
    }
    const unsigned shift = width - length;
    for (const auto& [prefix, counter] : prefixes) {
        const std::size_t count = std::size_t{1} << (length - prefix.length);
        for (std::size_t k = 0; k < count; ++k) {
            map.elements.emplace_back(format_address(field, prefix.base + (u128{k} << shift)),
                                      counter);
        }
    }
    return map;
}

// A map's or set's key: its fields concatenated with " . ".
std::string key_expression(const std::vector<Field>& key, const std::string& port_protocol) {
    std::string out;
    for (std::size_t i = 0; i < key.size(); ++i) {
        out += (i ? " . " : "") + field_expression(key[i], key.size() == 1 ? port_protocol : "");
    }
    return out;
}

void append_entry_text(std::string& out, const std::vector<Field>& key,
                       const rules::MapEntry& entry) {
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (i) {
            out += " . ";
        }
        out += element(key[i], entry.key[i]);
    }
}

std::string entry_text(const std::vector<Field>& key, const rules::MapEntry& entry) {
    std::string text;
    append_entry_text(text, key, entry);
    return text;
}

// One element per entry.
CounterMapText counter_map(const Statement& s, const std::string& port_protocol) {
    CounterMapText map;
    map.key = key_expression(s.key, port_protocol);
    for (const auto& entry : s.entries) {
        map.elements.emplace_back(entry_text(s.key, entry), &entry.counter);
    }
    return map;
}

std::string statement(const Statement& s, const std::string& port_protocol) {
    switch (s.kind) {
    case Statement::Kind::count:
        return "counter name " + quoted(s.name);
    case Statement::Kind::count_map: {
        if (s.key.size() == 1 && is_address(s.key[0])) {
            if (auto masked = masked_address_map(s.key[0], s.entries)) {
                return render(*masked);
            }
        }
        return render(counter_map(s, port_protocol));
    }
    case Statement::Kind::quota:
        return "quota name " + quoted(s.name);
    case Statement::Kind::quota_map:
        if (s.key.size() == 1 && is_address(s.key[0])) {
            if (auto masked = masked_address_map(s.key[0], s.entries)) {
                return render(*masked, "quota");
            }
        }
        return render(counter_map(s, port_protocol), "quota");
    case Statement::Kind::set_mark:
        return "ct mark set ct mark | " + hex32(s.mark_bit);
    case Statement::Kind::mark_packet:
        return "meta mark set meta mark | " + hex32(s.mark_bit);
    case Statement::Kind::unmark_packet:
        return "meta mark set meta mark & " + hex32(~s.mark_bit);
    case Statement::Kind::update_set:
        return "update @" + s.name + " { " + cut_address(s.key.front(), s.prefix) + " }";
    case Statement::Kind::hash_goto: {
        // An explicit seed: without one the kernel draws a random one for every new rule, so a
        // reload that re-creates the rule would send known hosts to other parts, where they
        // would start again as second elements.
        std::string out = "jhash " + cut_address(s.key.front(), s.prefix) + " mod " +
                          std::to_string(s.entries.size()) + " seed 0x0 vmap { ";
        for (std::size_t e = 0; e < s.entries.size(); ++e) {
            out += (e ? ", " : "") + std::to_string(e) + " : goto " + s.entries[e].counter;
        }
        return out + " }";
    }
    case Statement::Kind::count_elements:
        return key_expression(s.key, port_protocol) + " @" + s.name;
    case Statement::Kind::dispatch: {
        std::string out = "jhash " + key_expression(s.key, port_protocol) + " mod " +
                          std::to_string(s.entries.size()) + " seed 0x0 vmap { ";
        for (std::size_t e = 0; e < s.entries.size(); ++e) {
            out += (e ? ", " : "") + std::to_string(e) + " : goto " + s.entries[e].counter;
        }
        return out + " }";
    }
    case Statement::Kind::go:
        return "goto " + s.name;
    case Statement::Kind::accept:
        return "accept";
    case Statement::Kind::drop:
        return "drop";
    case Statement::Kind::jump:
        return "jump " + s.name;
    case Statement::Kind::ret:
        return "return";
    }
    return {};
}

// Put before the first field a rule reads from the transport header: a 3-byte load of it that
// matches anything but a fragment past the first. The kernel's fast path for 1-, 2- and 4-byte
// transport loads does not check the fragment offset (until "netfilter: nf_tables: skip L4
// header parsing for non-first fragments", posted in April 2026, reaches a kernel): it reads an
// IPv4 fragment's data, and an IPv6 one's flow label, as ports or an ICMP type. The slow path,
// which a 3-byte load takes, finds no transport header in such a fragment (docs/counting.md,
// "Ports of fragments"). The protocol's condition stays before the guard (although `tcp dport`
// carries the same dependency): packets of other protocols fail it before the guard's load.
constexpr const char* first_fragment_guard = "@th,0,24 & 0x0 == 0x0";

bool reads_transport_header(const std::vector<Field>& key) {
    return std::any_of(key.begin(), key.end(),
                       [](Field field) { return rules::info(field).transport_header; });
}

std::string rule_text(const rules::Rule& rule) {
    const std::string port_protocol = port_protocol_of(rule.conditions);
    const bool ports_follow = [&] {
        for (const auto& c : rule.conditions) {
            if (c.field == Field::sport || c.field == Field::dport) {
                return true;
            }
        }
        for (const auto& s : rule.statements) {
            if ((s.kind == Statement::Kind::count_map || s.kind == Statement::Kind::dispatch ||
                 s.kind == Statement::Kind::count_elements) &&
                s.key.size() == 1 && (s.key[0] == Field::sport || s.key[0] == Field::dport)) {
                return true;
            }
        }
        return false;
    }();
    std::string out;
    bool guarded = false;
    const auto guard_before = [&](bool transport) {
        if (transport && !guarded) {
            out += std::string(first_fragment_guard) + " ";
            guarded = true;
        }
    };
    for (const auto& c : rule.conditions) {
        guard_before(rules::info(c.field).transport_header);
        out += condition(c, ports_follow ? port_protocol : "") + " ";
    }
    for (const auto& s : rule.statements) {
        guard_before(reads_transport_header(s.key));
        out += statement(s, ports_follow ? port_protocol : "") + " ";
    }
    return out + "comment " + quoted(rule.origin);
}

std::string duration_text(std::uint64_t seconds) {
    std::string out;
    for (auto [unit, suffix] :
         {std::pair{86400ULL, "d"}, {3600ULL, "h"}, {60ULL, "m"}, {1ULL, "s"}}) {
        if (seconds >= unit) {
            out += std::to_string(seconds / unit) + suffix;
            seconds %= unit;
        }
    }
    return out;
}

std::string chain_text(const rules::Chain& chain) {
    std::string out = "\n\tchain " + chain.name + " {\n";
    if (chain.hook) {
        out += std::string("\t\ttype filter hook ") + rules::hook_name(*chain.hook);
        if (*chain.hook == rules::Hook::ingress) {
            out += " device " + quoted(chain.device) + " priority -450; policy accept;\n";
        } else if (*chain.hook == rules::Hook::egress) {
            // Late: what other egress chains let pass is what the wire carries.
            out += " device " + quoted(chain.device) + " priority 450; policy accept;\n";
        } else if (*chain.hook == rules::Hook::prerouting) {
            // Below conntrack's defragmentation at -400.
            out += " priority -450; policy accept;\n";
        } else {
            out += " priority filter - 10; policy accept;\n";
        }
    }
    for (const auto& rule : chain.rules) {
        out += "\t\t" + rule_text(rule) + "\n";
    }
    return out + "\t}\n";
}

// The counter objects an egress chain counts into, in first-use order.
std::vector<std::string> counted_objects(const rules::Chain& chain) {
    std::vector<std::string> names;
    auto add = [&](const std::string& name) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(name);
        }
    };
    for (const auto& rule : chain.rules) {
        for (const auto& s : rule.statements) {
            if (s.kind == Statement::Kind::count) {
                add(s.name);
            } else if (s.kind == Statement::Kind::count_map) {
                for (const auto& entry : s.entries) {
                    add(entry.counter);
                }
            }
        }
    }
    return names;
}

EgressTable egress_table(const std::string& table, const rules::Chain& chain) {
    EgressTable out{chain.device, table + "." + chain.name, {}, {}};
    const std::string family_table = "netdev " + out.name;
    out.preamble = "table " + family_table + "\ndelete table " + family_table + "\n";
    out.definition = "table " + family_table + " {\n";
    for (const auto& name : counted_objects(chain)) {
        out.definition +=
            "\tcounter " + name + " {\n\t\tcomment " + quoted(egress_comment) + "\n\t}\n";
    }
    out.definition += chain_text(chain) + "}\n";
    return out;
}

// Large classifications' parts (element_counters.hpp): each element counts for the counter its
// comment names.
void counting_sets_text(const rules::Table& table, std::string& out) {
    for (const auto& set : table.counting_sets) {
        std::vector<std::string> types;
        for (const auto field : set.key) {
            types.emplace_back(counting_set_type(field));
        }
        out += "\n\tset " + set.name + " {\n\t\ttype ";
        for (std::size_t i = 0; i < types.size(); ++i) {
            out += (i ? " . " : "") + types[i];
        }
        out += "\n\t\tcounter\n\t\tcomment ";
        out += quoted(counting_set_comment(types, set.origin));
        for (std::size_t e = 0; e < set.elements.size(); ++e) {
            out += e ? ",\n\t\t\t" : "\n\t\telements = { ";
            append_entry_text(out, set.key, set.elements[e]);
            out += " comment \"";
            out += set.comments[e];
            out += '"';
        }
        out += set.elements.empty() ? "\n\t}\n" : " }\n\t}\n";
    }
}

} // namespace

NftText emit_nft(const rules::Table& table) {
    NftText text;
    const std::string family_table = "inet " + table.name;
    text.preamble = "table " + family_table + "\ndelete table " + family_table + "\n";
    std::string& out = text.definition;
    out = "table " + family_table + " {\n";
    // ~110 bytes per counter and ~60 per map entry: one allocation for 100,000 classes.
    out.reserve(160 * table.counters.size());
    for (const auto& counter : table.counters) {
        if (counter.element) {
            continue; // counted by set elements (element_counters.hpp)
        }
        // Appended piece by piece: `a + b + ...` would build a temporary per counter.
        out += "\tcounter ";
        out += counter.name;
        out += " {\n\t\tcomment ";
        out += quoted(encode_counter_comment(counter.name, counter.identity));
        out += "\n\t}\n";
    }
    for (const auto& quota : table.quotas) {
        // `over`: a rule naming it matches once more than the budget was charged (a drop then
        // refuses the packet); the kernel reports the object when it is spent.
        out += "\tquota " + quota.name + " {\n\t\tover " + std::to_string(quota.bytes) +
               " bytes\n\t\tcomment " + quoted(encode_quota_comment(quota.identity)) + "\n\t}\n";
    }
    for (const auto& set : table.sets) {
        out += "\n\tset " + set.name + " {\n\t\ttype " +
               (set.mac  ? "ether_addr"
                : set.v6 ? "ipv6_addr"
                         : "ipv4_addr") +
               "\n\t\tsize " + std::to_string(set.size) + "\n\t\tflags dynamic" +
               (set.timeout_seconds ? ",timeout\n\t\ttimeout " + duration_text(set.timeout_seconds)
                                    : std::string()) +
               (set.identity ? "\n\t\tcounter" : "") +
               (set.quota ? "\n\t\tquota over " + std::to_string(set.quota->bytes) + " bytes"
                          : std::string()) +
               "\n\t\tcomment " +
               quoted(set.identity ? encode_counter_comment(set.name, *set.identity)
                      : set.quota  ? encode_quota_comment(set.quota->identity)
                                   : set.origin) +
               "\n\t}\n";
    }
    counting_sets_text(table, out);
    for (const auto& chain : table.chains) {
        if (chain.hook == rules::Hook::egress) {
            text.egress.push_back(egress_table(table.name, chain));
            continue;
        }
        out += chain_text(chain);
    }
    out += "}\n";
    return text;
}

} // namespace acctc
