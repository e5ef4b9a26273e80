#include "dump.hpp"

#include "families.hpp"
#include "well_known.hpp"

#include <cstdio>

namespace acctc {
namespace {

// file:line without directories.
std::string origin_text(const std::string& origin) {
    const auto slash = origin.rfind('/');
    return "@" + (slash == std::string::npos ? origin : origin.substr(slash + 1));
}

std::string number(u128 value) {
    if (value == 0) {
        return "0";
    }
    std::string out;
    for (; value != 0; value /= 10) {
        out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    }
    return out;
}

std::string hex(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

using Format = std::string (*)(u128);

std::string intervals(const IntervalSet& set, Format format = number) {
    if (set.empty()) {
        return "{}";
    }
    std::string out;
    for (const auto& part : set.parts()) {
        out += (out.empty() ? "" : ",") + format(part.lo);
        if (part.hi != part.lo) {
            out += "-" + format(part.hi);
        }
    }
    return out;
}

std::string joined(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) {
        out += (out.empty() ? "" : ",") + v;
    }
    return out;
}

const char* side_name(ir::Side side) {
    switch (side) {
    case ir::Side::source:
        return "source";
    case ir::Side::destination:
        return "destination";
    case ir::Side::either:
        return "either";
    }
    return "";
}

std::string flags(unsigned mask, const std::vector<std::pair<unsigned, const char*>>& names) {
    std::vector<std::string> out;
    for (const auto& [bit, name] : names) {
        if (mask & bit) {
            out.emplace_back(name);
        }
    }
    return out.empty() ? "none" : joined(out);
}

void dump_match(std::string& out, const ir::Match& m, const std::string& indent) {
    // Every member of ir::Match by name: a member added there fails to compile here until it is
    // dumped.
    [[maybe_unused]] const auto& [scopes_, directions_, via_, include_loopback_, uids_, gids_,
                                  cgroup_, protocols_, ports_, icmp_, addresses_, fragment_,
                                  new_connection_, length_] = m;
    out += indent + "scopes " +
           flags(m.scopes, {{ir::scope_local, "local"},
                            {ir::scope_forward, "forward"},
                            {ir::scope_passive, "passive"}}) +
           " directions " + flags(m.directions, {{ir::dir_in, "in"}, {ir::dir_out, "out"}}) + "\n";
    if (!m.via.empty()) {
        out += indent + "via " + joined(m.via) + "\n";
    }
    if (m.include_loopback) {
        out += indent + "include loopback\n";
    }
    if (m.uids) {
        out += indent + "uids " + intervals(*m.uids) + "\n";
    }
    if (m.gids) {
        out += indent + "gids " + intervals(*m.gids) + "\n";
    }
    if (m.cgroup) {
        out += indent + "cgroup " + *m.cgroup + "\n";
    }
    if (m.protocols) {
        out += indent + "protocols " + intervals(*m.protocols) + "\n";
    }
    for (const auto& p : m.ports) {
        out += indent + "ports " + side_name(p.side) + " protocols " + intervals(p.protocols) +
               " ports " + intervals(p.ports) + "\n";
    }
    if (m.icmp) {
        out += indent + (m.icmp->v6 ? "icmpv6" : "icmp") + " types " +
               (m.icmp->types.empty() ? "any" : intervals(m.icmp->types)) + "\n";
    }
    for (const auto& a : m.addresses) {
        out += indent + "address " + side_name(a.side);
        if (!a.peers_of.empty()) {
            out += " peers of " + a.peers_of + "\n";
            continue;
        }
        out += " v4 " + intervals(a.v4, format_ipv4) + " v6 " + intervals(a.v6, format_ipv6) + "\n";
    }
    if (m.fragment) {
        out += indent + "fragment\n";
    }
    if (m.new_connection) {
        out += indent + "new connection\n";
    }
    if (m.length) {
        out += indent + "length " + intervals(*m.length) + "\n";
    }
}

const char* verdict_name(ir::Verdict v) {
    switch (v) {
    case ir::Verdict::none:
        return "none";
    case ir::Verdict::accept:
        return "accept";
    case ir::Verdict::drop:
        return "drop";
    }
    return "";
}

const char* side_name(ir::HostSide side) {
    switch (side) {
    case ir::HostSide::source:
        return "source";
    case ir::HostSide::destination:
        return "destination";
    case ir::HostSide::local:
        return "local";
    case ir::HostSide::remote:
        return "remote";
    case ir::HostSide::mac:
        return "mac";
    }
    return "";
}

// The details of a `split host`: side, prefixes, networks, set size.
std::string host_text(const ir::Counter& c, ir::Split kind) {
    if (kind != ir::Split::host || !c.host) {
        return "";
    }
    const ir::HostSplit& h = *c.host;
    std::string out = std::string(" ") + side_name(h.side) + " per /" +
                      std::to_string(h.v4_prefix) + " /" + std::to_string(h.v6_prefix);
    if (h.within) {
        out += " within " + intervals(h.v4, format_ipv4) + " " + intervals(h.v6, format_ipv6);
    }
    return out + " size " + std::to_string(h.size);
}

const char* split_name(ir::Split s) {
    switch (s) {
    case ir::Split::protocol:
        return "protocol";
    case ir::Split::direction:
        return "direction";
    case ir::Split::type:
        return "type";
    case ir::Split::host:
        return "host";
    case ir::Split::opener:
        return "opener";
    }
    return "";
}

void dump_class(std::string& out, const char* what, const ir::Class& cls) {
    out += std::string("  ") + what + " " + cls.label + " counter " + cls.counter + " " +
           origin_text(cls.origin) + "\n";
    dump_match(out, cls.match, "    ");
}

// ---------------------------------------------------------------------------------------
// rules::Table

const char* field_name(rules::Field f) {
    return rules::info(f).name;
}

Format field_format(rules::Field f) {
    if (rules::info(f).spelling != rules::Spelling::address) {
        return number;
    }
    return rules::info(f).width == 32 ? format_ipv4 : format_ipv6;
}

// " per /N" for an address cut to a prefix (host sets); nothing for the whole address.
std::string prefix_text(unsigned prefix) {
    return prefix == 0 ? std::string() : " per /" + std::to_string(prefix);
}

std::string condition_text(const rules::Condition& c) {
    std::string out = std::string(field_name(c.field)) + (c.negate ? " != " : " == ");
    if (!c.set.empty()) {
        return out + "@" + c.set + prefix_text(c.prefix);
    }
    if (rules::info(c.field).value == rules::ValueKind::mark) {
        return out + "bit " + hex(c.mark_bit);
    }
    if (!c.names.empty()) {
        std::string quoted;
        for (const auto& n : c.names) {
            quoted += (quoted.empty() ? "\"" : ",\"") + n + "\"";
        }
        return out + quoted;
    }
    if (c.numbers.empty()) {
        return out + "present";
    }
    return out + intervals(c.numbers, field_format(c.field));
}

std::string key_text(const std::vector<rules::Field>& key) {
    std::string out;
    for (auto f : key) {
        out += (out.empty() ? "" : " . ") + std::string(field_name(f));
    }
    return out;
}

std::string entry_key(const rules::MapEntry& e, const std::vector<rules::Field>& key) {
    std::string out;
    for (std::size_t i = 0; i < e.key.size(); ++i) {
        const Format format = field_format(i < key.size() ? key[i] : rules::Field::l4proto);
        out += (out.empty() ? "" : " . ") + format(e.key[i].lo);
        if (e.key[i].hi != e.key[i].lo) {
            out += "-" + format(e.key[i].hi);
        }
    }
    return out;
}

std::string statement_text(const rules::Statement& s, const std::string& indent) {
    using Kind = rules::Statement::Kind;
    switch (s.kind) {
    case Kind::count:
        return indent + "count " + s.name + "\n";
    case Kind::count_map: {
        std::string out = indent + "count by " + key_text(s.key) + "\n";
        for (const auto& e : s.entries) {
            out += indent + "  " + entry_key(e, s.key) + " -> " + e.counter + "\n";
        }
        return out;
    }
    case Kind::quota:
        return indent + "charge quota " + s.name + "\n";
    case Kind::quota_map: {
        std::string out = indent + "charge quota by " + key_text(s.key) + "\n";
        for (const auto& e : s.entries) {
            out += indent + "  " + entry_key(e, s.key) + " -> " + e.counter + "\n";
        }
        return out;
    }
    case Kind::set_mark:
        return indent + "set mark bit " + hex(s.mark_bit) + "\n";
    case Kind::mark_packet:
        return indent + "set packet mark bit " + hex(s.mark_bit) + "\n";
    case Kind::unmark_packet:
        return indent + "clear packet mark bit " + hex(s.mark_bit) + "\n";
    case Kind::update_set:
        return indent + "update @" + s.name + " with " + key_text(s.key) + prefix_text(s.prefix) +
               "\n";
    case Kind::hash_goto: {
        std::string out = indent + "goto by hash of " + key_text(s.key) + prefix_text(s.prefix) +
                          " mod " + std::to_string(s.entries.size()) + "\n";
        for (std::size_t e = 0; e < s.entries.size(); ++e) {
            out += indent + "  " + std::to_string(e) + " -> " + s.entries[e].counter + "\n";
        }
        return out;
    }
    case Kind::count_elements:
        return indent + "count by element of @" + s.name + " with " + key_text(s.key) + "\n";
    case Kind::dispatch: {
        std::string out = indent + "goto by jhash of " + key_text(s.key) + " mod " +
                          std::to_string(s.entries.size()) + "\n";
        for (std::size_t e = 0; e < s.entries.size(); ++e) {
            out += indent + "  " + std::to_string(e) + " -> " + s.entries[e].counter + "\n";
        }
        return out;
    }
    case Kind::go:
        return indent + "goto " + s.name + "\n";
    case Kind::accept:
        return indent + "accept\n";
    case Kind::drop:
        return indent + "drop\n";
    case Kind::jump:
        return indent + "jump " + s.name + "\n";
    case Kind::ret:
        return indent + "return\n";
    }
    return "";
}

std::string labels_text(const CounterIdentity& identity) {
    std::string out;
    for (const auto& label : identity.labels) {
        out += " " + std::string(dimension_name(label.dimension)) + "=" + label.value;
    }
    return out;
}

} // namespace

std::string dump_checked(const ir::Policy& policy) {
    std::string out = "policy " + policy.name + " table " + policy.table + " connmark mask " +
                      hex(policy.connmark_mask) +
                      (policy.uses_conntrack ? " conntrack" : " no conntrack") + "\n";
    for (const auto& item : policy.order) {
        if (!item.is_classify) {
            const ir::Counter& c = policy.counters[item.index];
            out += "\ncounter " + c.name + " " + origin_text(c.origin) + "\n";
            dump_match(out, c.match, "  ");
            if (c.follow) {
                out += "  follow connection mark bit " + hex(c.mark_bit) + "\n";
            }
            for (const auto& l : c.listen) {
                out += "  listen " + protocol_name(l.protocol) + " " + intervals(l.ports) + "\n";
            }
            for (const auto& s : c.splits) {
                std::string values;
                for (auto v : s.values) {
                    values += (values.empty() ? " " : ",") + std::to_string(v);
                }
                out += std::string("  split ") + split_name(s.kind) + values +
                       host_text(c, s.kind) + "\n";
            }
            if (c.verdict != ir::Verdict::none) {
                out += std::string("  verdict ") + verdict_name(c.verdict) + "\n";
            }
            if (c.peers_referenced) {
                out +=
                    "  peers referenced timeout " + std::to_string(c.peers_timeout_seconds) + "s\n";
            }
            continue;
        }
        const ir::Classify& k = policy.classifies[item.index];
        out += "\nclassify " + k.name + " " + origin_text(k.origin) +
               (k.split_direction ? " split direction" : "") + "\n";
        dump_match(out, k.scope, "  ");
        for (const auto& cls : k.classes) {
            dump_class(out, "class", cls);
        }
        if (k.otherwise) {
            dump_class(out, "otherwise", *k.otherwise);
        }
    }
    for (const auto& v : policy.verdicts) {
        out += std::string("\nverdict ") + verdict_name(v.verdict) + " " + origin_text(v.origin);
        if (v.counter != static_cast<std::size_t>(-1)) {
            out += " of counter " + policy.counters[v.counter].name + "\n";
        } else {
            out += "\n";
            dump_match(out, v.match, "  ");
        }
    }
    for (const auto& q : policy.quotas) {
        out += "\nquota " + q.name + " " + origin_text(q.origin) + "\n  limit " +
               std::to_string(q.limit) + " bytes warn " + std::to_string(q.warn) + " bytes per " +
               std::string(period_name(q.period)) +
               (q.period == QuotaPeriod::month ? " from day " + std::to_string(q.start_day) : "") +
               (q.drop ? " drop" : "") + (q.per_host ? " per host" : "") + "\n  on " +
               joined(q.counters) + "\n";
    }
    return out;
}

std::string dump_lowered(const rules::Table& table) {
    std::string out = "table " + table.name + " policy " + table.policy + "\n";
    for (const auto& family : table.families) {
        out += "\nfamily " + family.name + " " + std::string(kind_name(family.kind)) + " " +
               origin_text(family.origin) + "\n";
        for (Dimension d : family.dimensions) {
            out += "  dimension " + std::string(dimension_name(d)) + ":";
            switch (d) {
            case Dimension::direction:
                for (auto v : family.directions) {
                    out += v == rules::Direction::in ? " in" : " out";
                }
                break;
            case Dimension::protocol:
                for (auto v : family.protocols) {
                    out += " " + protocol_name(v);
                }
                break;
            case Dimension::icmp_type:
                for (auto v : family.icmp_types) {
                    out += " " + icmp_type_name(v, family.icmp_v6);
                }
                break;
            case Dimension::class_:
                for (const auto& m : family.members) {
                    out += " " + m.label;
                }
                break;
            case Dimension::opener:
                for (auto v : family.openers) {
                    out += std::string(" ") + opener_text(v);
                }
                break;
            case Dimension::host:
                out += " (at run time)";
                break;
            }
            out += "\n";
        }
    }
    out += "\n";
    for (const auto& counter : table.counters) {
        out += "counter " + counter.name + " family " + counter.identity.family +
               labels_text(counter.identity) + " " + origin_text(counter.identity.origin) + "\n";
    }
    for (const auto& quota : table.quotas) {
        out += "quota " + quota.name + " over " + std::to_string(quota.bytes) + " bytes " +
               encode_quota_comment(quota.identity) + "\n";
    }
    for (const auto& set : table.sets) {
        out += "\nset " + set.name +
               (set.mac  ? " mac"
                : set.v6 ? " ipv6"
                         : " ipv4") +
               " timeout " + std::to_string(set.timeout_seconds) + "s " + origin_text(set.origin);
        if (set.identity) {
            out += " size " + std::to_string(set.size) + " counters family " +
                   set.identity->family + labels_text(*set.identity);
        }
        if (set.quota) {
            out += " size " + std::to_string(set.size) + " quota over " +
                   std::to_string(set.quota->bytes) + " bytes per element " +
                   encode_quota_comment(set.quota->identity);
        }
        out += "\n";
    }
    for (const auto& chain : table.chains) {
        out += "\nchain " + chain.name;
        if (chain.hook) {
            out += std::string(" hook ") + rules::hook_name(*chain.hook);
            if (!chain.device.empty()) {
                out += " device " + chain.device;
            }
        }
        out += "\n";
        for (const auto& rule : chain.rules) {
            out += "  rule " + origin_text(rule.origin) + "\n";
            for (const auto& c : rule.conditions) {
                out += "    if " + condition_text(c) + "\n";
            }
            for (const auto& s : rule.statements) {
                out += statement_text(s, "    ");
            }
        }
    }
    return out;
}

} // namespace acctc
