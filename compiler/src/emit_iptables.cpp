#include "emit_iptables.hpp"

#include "emit_ipset_hosts.hpp"
#include "iptables_names.hpp"
#include "iptables_tree.hpp"
#include "well_known.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

namespace acctc {
namespace {

using rules::Condition;
using rules::Field;
using rules::Statement;

enum class Family { v4, v6 };

// One match module with its options, e.g. {"multiport", "! --sports 20:21"}.
struct Match {
    std::string module;
    std::vector<std::string> options;
};

// One positional option: -i, -o, -p.
struct Slot {
    bool negate = false;
    std::string value;
    bool empty() const { return value.empty(); }
    const std::string& text() const { return value; }
    bool operator==(const Slot&) const = default;
};

// -s or -d: one prefix, formatted only when the rule is written (a list of 100,000 addresses
// makes 900,000 of these; strings made each a few allocations).
struct AddressSlot {
    bool negate = false;
    unsigned width = 0; // 32 or 128; 0 when the spec has no such option
    Prefix prefix{0, 0};

    bool empty() const { return width == 0; }
    std::string text() const {
        return format_address(prefix.base, width) + "/" + std::to_string(prefix.length);
    }
    // The same addresses as an iprange option, for a second address condition on this side.
    std::string range() const {
        return format_address(prefix.base, width) + "-" +
               format_address(prefix_interval(prefix, width).hi, width);
    }
};

// The matching part of one iptables rule, kept in the order iptables-save prints it, so the text
// acctc loads reads back unchanged (diff compares the two).
struct Spec {
    AddressSlot src, dst;
    Slot in, out, proto;
    bool fragment = false;
    std::vector<Match> matches;
};

// Specs that veto an alternative (negations iptables cannot write in one rule), shared by every
// alternative one condition multiplies out: `address` of n addresses has n alternatives vetoed
// by the same n sources, which copies would make n * n.
using Exclusions = std::shared_ptr<const std::vector<Spec>>;

// A spec and the specs that veto it, in the order the conditions produced them.
struct Alt {
    Spec spec;
    std::vector<Exclusions> exclusions;
};

std::string hex(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%x", value);
    return text;
}

std::string number(u128 value) {
    return std::to_string(static_cast<unsigned long long>(value));
}

// The names iptables knows without /etc/protocols; others stay numeric so loading never
// depends on the host's protocol database.
std::string protocol_text(std::uint8_t p) {
    switch (p) {
    case 1:
        return "icmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 33:
        return "dccp";
    case 50:
        return "esp";
    case 51:
        return "ah";
    case 58:
        return "ipv6-icmp";
    case 132:
        return "sctp";
    case 136:
        return "udplite";
    default:
        return std::to_string(p);
    }
}

// No AH header before the upper-layer protocol (ip6tables-save prints `auth` as `ah`).
Match without_ah() {
    return {"ipv6header", {"! --header ah", "--soft"}};
}

std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
}

// iptables comments hold at most 255 characters; the end of a long path is the useful part.
std::string comment_text(const std::string& text) {
    return text.size() <= 255 ? text : "..." + text.substr(text.size() - 252);
}

bool v6_field(Field f) {
    return rules::info(f).family == rules::FieldFamily::ipv6;
}

bool v4_field(Field f) {
    return rules::info(f).family == rules::FieldFamily::ipv4;
}

// Whether a rule can hold for the family at all: family-specific fields and `meta nfproto`
// put it in one of the two texts only.
bool for_family(const rules::Rule& rule, Family family) {
    const Family other = family == Family::v4 ? Family::v6 : Family::v4;
    auto belongs_to_other = [&](Field f) {
        return other == Family::v4 ? v4_field(f) : v6_field(f);
    };
    for (const auto& c : rule.conditions) {
        if (belongs_to_other(c.field)) {
            return false;
        }
        if (c.field == Field::nfproto &&
            c.numbers.contains(family == Family::v4 ? 4 : 6) == c.negate) {
            return false;
        }
    }
    for (const auto& s : rule.statements) {
        for (Field f : s.key) {
            if (belongs_to_other(f)) {
                return false;
            }
        }
    }
    return true;
}

// Interface names: nft's trailing '*' is iptables' '+'. A wildcard covers the names it
// prefixes; they are dropped so alternatives stay disjoint (each packet counted once).
std::vector<std::string> interfaces(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        bool covered = false;
        for (std::size_t j = 0; j < names.size() && !covered; ++j) {
            const std::string& wildcard = names[j];
            if (j == i || wildcard.back() != '*') {
                continue;
            }
            const bool prefixed =
                names[i].compare(0, wildcard.size() - 1, wildcard, 0, wildcard.size() - 1) == 0;
            covered = prefixed && (names[i] != wildcard || j < i);
        }
        if (!covered) {
            const std::string& name = names[i];
            out.push_back(name.back() == '*' ? name.substr(0, name.size() - 1) + "+" : name);
        }
    }
    return out;
}

// Appends a match; sctp/dccp port options join an earlier match of the same module the way
// iptables-nft-save prints them (one `-m sctp ! --sport 20:21 --dport 20:21`). TCP's and UDP's
// ports are multiport matches (port_atoms), one per option.
void add_match(Spec& spec, Match match) {
    static const std::set<std::string> joinable{"sctp", "dccp"};
    if (joinable.count(match.module)) {
        for (auto& existing : spec.matches) {
            if (existing.module != match.module) {
                continue;
            }
            auto has = [&](const std::string& option) {
                for (const auto& o : existing.options) {
                    if (o.find(option) != std::string::npos) {
                        return true;
                    }
                }
                return false;
            };
            const bool sport = match.options.front().find("--sport") != std::string::npos;
            if (!has(sport ? "--sport" : "--dport")) {
                if (sport) {
                    existing.options.insert(existing.options.begin(), match.options.front());
                } else {
                    existing.options.push_back(match.options.front());
                }
                return;
            }
        }
    }
    spec.matches.push_back(std::move(match));
}

// Merges `part` into `into`. False when they cannot both hold (two different protocols);
// a negated positional option that collides becomes an exclusion.
bool merge(Alt& into, const Spec& part) {
    Spec& spec = into.spec;
    auto slot = [&](Slot Spec::*member) {
        const Slot& add = part.*member;
        Slot& have = spec.*member;
        if (add.empty() || add == have) {
            return true;
        }
        if (have.empty()) {
            have = add;
            return true;
        }
        if (!add.negate && !have.negate) {
            return false; // two different interfaces or protocols
        }
        Slot positive = add.negate ? add : have;
        if (!add.negate) {
            have = add;
        }
        positive.negate = false;
        Spec exclusion;
        exclusion.*member = positive;
        into.exclusions.push_back(std::make_shared<const std::vector<Spec>>(1, exclusion));
        return true;
    };
    auto address = [&](AddressSlot Spec::*member, const char* option) {
        const AddressSlot& add = part.*member;
        if (add.empty()) {
            return;
        }
        if ((spec.*member).empty()) {
            spec.*member = add;
            return;
        }
        add_match(spec,
                  {"iprange", {std::string(add.negate ? "! " : "") + option + " " + add.range()}});
    };
    address(&Spec::src, "--src-range");
    address(&Spec::dst, "--dst-range");
    if (!slot(&Spec::in) || !slot(&Spec::out) || !slot(&Spec::proto)) {
        return false;
    }
    spec.fragment = spec.fragment || part.fragment;
    for (const auto& m : part.matches) {
        add_match(spec, m);
    }
    return true;
}

// Appends the spec's options to `out` (a chain's text: no temporary per rule).
void append_spec_text(std::string& out, const Spec& spec) {
    auto slot = [&](const auto& s, const char* flag) {
        if (!s.empty()) {
            out += s.negate ? " ! " : " ";
            out += flag;
            out += ' ';
            out += s.text();
        }
    };
    slot(spec.src, "-s");
    slot(spec.dst, "-d");
    slot(spec.in, "-i");
    slot(spec.out, "-o");
    slot(spec.proto, "-p");
    if (spec.fragment) {
        out += " -f";
    }
    for (const auto& m : spec.matches) {
        out += " -m " + m.module;
        for (const auto& o : m.options) {
            out += " " + o;
        }
    }
}

std::string spec_text(const Spec& spec) {
    std::string out;
    append_spec_text(out, spec);
    return out;
}

struct PeerSet {
    std::string name;
    bool v6 = false;
    const rules::DynamicSet* set = nullptr;
};

class Emitter {
  public:
    explicit Emitter(const rules::Table& table);
    IptablesText run();

  private:
    // A chain's "-A chain ...\n" lines: one string growing to 64 KiB, then blocks of that
    // size. 100,000 addresses make 900,000 lines, which a string per line or one growing string
    // per chain (doubling and copying) made take two to three times their size; a chain of one
    // rule (a counter's) stays one small string.
    struct ChainOut {
        std::string name;
        std::vector<std::string> blocks;

        void append(const std::string& line) {
            constexpr std::size_t block_size = 64 * 1024;
            if (blocks.empty()) {
                blocks.emplace_back();
            } else if (blocks.back().size() + line.size() > blocks.back().capacity() &&
                       blocks.back().capacity() >= block_size) {
                blocks.emplace_back().reserve(block_size);
            }
            blocks.back() += line;
        }
    };

    const rules::Table& table_;
    Family family_ = Family::v4;
    std::map<std::string, PeerSet> sets_;         // nft set name -> ipset
    std::map<std::string, std::string> counters_; // counter -> chain
    std::map<std::string, std::string> charges_;  // quota object -> its charge chain
    std::map<std::string, std::string> chains_;   // rules chain name -> iptables chain
    std::vector<ChainOut> out_;
    std::string line_; // the line being written, its buffer reused
    std::set<std::string> used_names_;
    // The rule being emitted: its lookup trees (per count map statement) and their chains'
    // role prefix and count.
    std::map<const Statement*, iptables::LookupTree> plans_;
    std::string tree_role_;
    std::size_t tree_chains_ = 0;
    // Chains the rule's trees may nest below their root (0: no tree, the entries in a row). A
    // tree's misses go on in a continuation chain below its leaves, so the trees of one chain
    // share the depth one tree has alone (share_depth()).
    std::size_t tree_max_depth_ = iptables::LookupShape{}.max_depth;
    // Of the chain being emitted, per rule: the depth its tree gets (0: none, or not a map).
    std::vector<std::size_t> tree_depths_;

    std::string new_chain(const std::string& role);
    std::vector<Alt> expand(const std::vector<Condition>& conditions) const;
    std::vector<Alt> apply(const std::vector<Alt>& alts, const Condition& c) const;
    std::vector<Spec> options(const Condition& c, const Spec& context,
                              std::vector<Spec>& exclusions) const;
    std::vector<Spec> address_atoms(const Condition& c) const;
    std::vector<Spec> port_atoms(Field field, const IntervalSet& ports, std::uint8_t protocol,
                                 bool negate) const;
    // `levels`: chains the trees before `begin` already nest the continuation below the chain
    // that holds the first rule.
    void emit_chain(std::size_t index, const std::string& role,
                    const std::vector<rules::Rule>& rules, std::size_t begin,
                    std::size_t levels = 0);
    void emit_statements(std::size_t index, const Spec& spec, const rules::Rule& rule,
                         const std::string& miss);
    const iptables::LookupTree& plan(const Statement& s);
    bool has_tree(const rules::Rule& rule);
    void emit_count_map(std::size_t index, const Spec& spec, const std::string& origin,
                        const Statement& s, const std::string& how, const std::string& miss);
    void emit_entries(std::size_t index, const Spec& spec, const std::string& origin,
                      const Statement& s, const std::vector<std::size_t>& entries,
                      const std::string& how);
    void emit_node(std::size_t index, const iptables::LookupTree& tree, std::size_t node,
                   const Spec& context, const std::string& origin, const Statement& s,
                   const std::string& miss);
    bool ah_apart(const Statement& s) const;
    std::vector<Spec> route_tests(const Statement& s, const iptables::LookupNode::Child& child,
                                  Field field, const Spec& context) const;
    void line(std::size_t index, const Spec& spec, const std::string& origin,
              const std::string& target);
    // The chain a count (map) entry goes to: a counter's, or a quota object's charge chain.
    const std::string& entry_chain(const Statement& s, const std::string& name) const {
        return s.kind == Statement::Kind::quota_map ? charges_.at(name) : counters_.at(name);
    }
    std::string family_text(const std::vector<std::pair<std::string, std::string>>& jumps);
};

Emitter::Emitter(const rules::Table& table) : table_(table) {
    for (const auto& set : table.sets) {
        std::string role = set.name;
        if (role.rfind("peers_", 0) == 0) {
            role = "p-" + role.substr(6);
        }
        role += "-" + std::to_string(set.timeout_seconds);
        if (ipset_hosts::counts(set)) {
            role = ipset_hosts::role(set);
        }
        sets_[set.name] = {iptables::object_name(table.policy, role, iptables::max_set_name),
                           set.v6, &set};
    }
    for (const auto& counter : table.counters) {
        counters_[counter.name] = iptables::counter_chain(table.policy, counter.name);
    }
    for (const auto& object : table.quotas) {
        if (object.identity.role != QuotaRole::limit) {
            throw std::logic_error("a quota warning object reaches the iptables emitter");
        }
        charges_[object.name] = iptables::quota_chain(table.policy, object.identity.quota);
    }
    for (const auto& chain : table.chains) {
        std::string role = chain.name;
        if (role.rfind("classify_", 0) == 0) {
            role = "k-" + role.substr(9);
        }
        chains_[chain.name] = iptables::object_name(table.policy, role);
    }
}

std::string Emitter::new_chain(const std::string& role) {
    const std::string name = iptables::object_name(table_.policy, role);
    if (!used_names_.insert(name).second) {
        throw std::logic_error("iptables chain name " + name + " is used twice");
    }
    out_.push_back({name, {}});
    return name;
}

std::vector<Spec> Emitter::address_atoms(const Condition& c) const {
    const bool v6 = v6_field(c.field);
    const bool source = c.field == Field::ip_saddr || c.field == Field::ip6_saddr;
    const unsigned width = v6 ? 128 : 32;
    std::vector<Spec> atoms;
    atoms.reserve(c.numbers.parts().size());
    for (const auto& part : c.numbers.parts()) {
        const auto prefixes = to_prefixes(part, width);
        if (prefixes.size() > 4) {
            Spec s;
            s.matches.push_back(
                {"iprange",
                 {std::string(c.negate ? "! " : "") + (source ? "--src-range " : "--dst-range ") +
                  format_address(part.lo, width) + "-" + format_address(part.hi, width)}});
            atoms.push_back(std::move(s));
            continue;
        }
        for (const auto& p : prefixes) {
            if (p.length == 0) {
                // Every address: no match at all (iptables-nft refuses `! -s 0.0.0.0/0`, and
                // iptables-save drops `-s 0.0.0.0/0`); the negation never holds.
                if (c.negate) {
                    return {};
                }
                atoms.emplace_back();
                continue;
            }
            Spec s;
            const AddressSlot slot{c.negate, width, p};
            (source ? s.src : s.dst) = slot;
            atoms.push_back(std::move(s));
        }
    }
    return atoms;
}

// sctp and dccp take one port or range in their own match; tcp, udp, udplite and lists go
// through multiport, 15 ports per match (a range takes two). iptables-nft turns the tcp and udp
// matches into nft's own payload loads, which read a fragment past the first as if it had ports
// (docs/counting.md, "Ports of fragments"); multiport stays the kernel's xt match, which skips
// such a fragment, as tcp and udp do under iptables-legacy.
std::vector<Spec> Emitter::port_atoms(Field field, const IntervalSet& ports, std::uint8_t protocol,
                                      bool negate) const {
    const bool source = field == Field::sport;
    const std::string bang = negate ? "! " : "";
    std::vector<Spec> atoms;
    auto base = [&] {
        Spec s;
        s.proto = {false, protocol_text(protocol)};
        return s;
    };
    constexpr std::uint8_t sctp = 132, dccp = 33;
    if (ports.parts().size() == 1 && (protocol == sctp || protocol == dccp)) {
        const auto& p = ports.parts()[0];
        Spec s = base();
        s.matches.push_back({protocol_text(protocol),
                             {bang + (source ? "--sport " : "--dport ") + number(p.lo) +
                              (p.lo == p.hi ? "" : ":" + number(p.hi))}});
        atoms.push_back(std::move(s));
        return atoms;
    }
    std::string list;
    unsigned used = 0;
    auto flush = [&] {
        if (list.empty()) {
            return;
        }
        Spec s = base();
        s.matches.push_back({"multiport", {bang + (source ? "--sports " : "--dports ") + list}});
        atoms.push_back(std::move(s));
        list.clear();
        used = 0;
    };
    for (const auto& p : ports.parts()) {
        const unsigned cost = p.lo == p.hi ? 1 : 2;
        if (used + cost > 15) {
            flush();
        }
        list += (list.empty() ? "" : ",") + number(p.lo) + (p.lo == p.hi ? "" : ":" + number(p.hi));
        used += cost;
    }
    flush();
    return atoms;
}

// The alternatives one condition allows (disjoint, so a counting rule still counts a packet at
// most once); negations that need more than one rule go to `exclusions`.
std::vector<Spec> Emitter::options(const Condition& c, const Spec& context,
                                   std::vector<Spec>& exclusions) const {
    std::vector<Spec> atoms;
    bool expressible_negation = true; // a negated condition of one atom is written with '!'
    auto values = [&] {
        std::vector<std::uint32_t> out;
        for (const auto& part : c.numbers.parts()) {
            for (u128 v = part.lo; v <= part.hi; ++v) {
                out.push_back(static_cast<std::uint32_t>(v));
            }
        }
        return out;
    };
    const rules::FieldInfo& field = rules::info(c.field);
    using Form = rules::IptablesForm;
    switch (field.iptables) {
    case Form::range_option:
        for (const auto& part : c.numbers.parts()) {
            Spec s;
            s.matches.push_back(
                {field.iptables_module,
                 {std::string(c.negate ? "! " : "") + field.iptables_option + " " +
                  number(part.lo) +
                  (part.lo == part.hi ? "" : field.iptables_range + number(part.hi))}});
            atoms.push_back(std::move(s));
        }
        break;
    case Form::interface:
        for (const auto& name : interfaces(c.names)) {
            Spec s;
            (c.field == Field::iifname ? s.in : s.out) = {c.negate, name};
            atoms.push_back(std::move(s));
        }
        break;
    case Form::family:
        return {Spec{}}; // decided per text by for_family
    case Form::protocol: {
        // nft's l4proto stops at AH on IPv6; ip6tables-legacy's -p looks past it (iptables-nft's
        // does not). `-m ah` finds AH on both, and the other protocols of the same list leave
        // AH's packets to it, so a packet counts once and as nft counts it.
        const bool ah_apart = family_ == Family::v6 && c.numbers.contains(proto_ah);
        for (auto v : values()) {
            Spec s;
            if (ah_apart && v == proto_ah) {
                s.matches.push_back(c.negate ? without_ah() : Match{"ah", {}});
            } else if (family_ == Family::v4 && v == 0) {
                // -p 0 means any protocol: read the protocol byte instead.
                s.matches.push_back(
                    {"u32", {std::string(c.negate ? "! " : "") + "--u32 \"0x6&0xff=0x0\""}});
            } else {
                s.proto = {c.negate, protocol_text(static_cast<std::uint8_t>(v))};
                if (ah_apart && !c.negate) {
                    s.matches.push_back(without_ah());
                }
            }
            atoms.push_back(std::move(s));
        }
        break;
    }
    case Form::port: {
        std::vector<std::uint8_t> protocols;
        if (!context.proto.empty() && !context.proto.negate) {
            for (std::uint8_t p : {6, 17, 33, 132, 136}) {
                if (protocol_text(p) == context.proto.value) {
                    protocols.push_back(p);
                }
            }
        } else {
            protocols = {6, 17, 33, 132, 136}; // `th dport` without a protocol: any with ports
        }
        std::vector<Spec> all;
        for (auto p : protocols) {
            auto part = port_atoms(c.field, c.numbers, p, c.negate);
            if (c.negate && part.size() > 1) {
                // Not in any chunk: each chunk excludes; the protocol still has to match.
                for (auto& chunk : port_atoms(c.field, c.numbers, p, false)) {
                    exclusions.push_back(std::move(chunk));
                }
                Spec s;
                s.proto = {false, protocol_text(p)};
                all.push_back(std::move(s));
                continue;
            }
            all.insert(all.end(), part.begin(), part.end());
        }
        return all;
    }
    case Form::mac:
    case Form::address:
        if (!c.set.empty()) {
            const bool source = ipset_hosts::source_side(c.field);
            const PeerSet& set = sets_.at(c.set);
            Spec s;
            s.matches.push_back(
                {"set",
                 {ipset_hosts::lookup(set.name, source, c.negate, ipset_hosts::counts(*set.set))}});
            return {s};
        }
        if (field.iptables == Form::mac) {
            throw std::logic_error("a MAC condition without a set reaches the iptables emitter");
        }
        atoms = address_atoms(c);
        break;
    case Form::icmp_type: {
        const bool v6 = v6_field(c.field);
        for (auto v : values()) {
            Spec s;
            s.proto = {false, protocol_text(v6 ? proto_icmpv6 : proto_icmp)};
            s.matches.push_back({v6 ? "icmp6" : "icmp",
                                 {std::string(c.negate ? "! " : "") +
                                  (v6 ? "--icmpv6-type " : "--icmp-type ") + std::to_string(v)}});
            atoms.push_back(std::move(s));
        }
        break;
    }
    case Form::cgroup: {
        Spec s;
        s.matches.push_back(
            {"cgroup", {std::string(c.negate ? "! " : "") + "--path " + quoted(c.names.front())}});
        return {s};
    }
    case Form::fragment4: {
        Spec s;
        s.fragment = true;
        if (c.negate) {
            exclusions.push_back(s);
            return {Spec{}};
        }
        return {s};
    }
    case Form::exthdr: {
        // The match module of the header's name finds it the way nft's exthdr does.
        Spec s;
        s.matches.push_back({std::string(skipped_ipv6_header_name(
                                 static_cast<std::uint8_t>(c.numbers.parts()[0].lo))),
                             {}});
        if (c.negate) {
            exclusions.push_back(s);
            return {Spec{}};
        }
        return {s};
    }
    case Form::fragment6: {
        if (c.negate) {
            throw std::logic_error("negated IPv6 fragment condition");
        }
        // A fragment header whose offset is not 0: `-m frag` minus `-m frag --fragfirst`.
        Spec any;
        any.matches.push_back({"frag", {}});
        Spec first;
        first.matches.push_back({"frag", {"--fragfirst"}});
        exclusions.push_back(first);
        return {any};
    }
    case Form::fib: // only prerouting chains use it, which iptables lowering never makes
        throw std::logic_error("a FIB condition reaches the iptables emitter");
    case Form::egress: // only egress chains use them, which iptables lowering never makes
        throw std::logic_error("an egress condition reaches the iptables emitter");
    case Form::ct_new: {
        Spec s;
        s.matches.push_back({"conntrack", {std::string(c.negate ? "! " : "") + "--ctstate NEW"}});
        return {s};
    }
    case Form::ctdir: {
        if (c.negate) { // the lowering asks for the other direction instead
            throw std::logic_error("negated conntrack direction condition");
        }
        Spec s;
        s.matches.push_back({field.iptables_module, {field.iptables_option}});
        return {s};
    }
    case Form::connmark: {
        Spec s;
        s.matches.push_back({"connmark",
                             {std::string(c.negate ? "! " : "") + "--mark " + hex(c.mark_bit) +
                              "/" + hex(c.mark_bit)}});
        return {s};
    }
    }
    if (c.negate && atoms.size() > 1) {
        expressible_negation = false;
    }
    if (!expressible_negation) {
        for (auto& atom : atoms) {
            atom.src.negate = false;
            atom.dst.negate = false;
            for (Slot* s : {&atom.in, &atom.out, &atom.proto}) {
                s->negate = false;
            }
            for (auto& m : atom.matches) {
                for (auto& o : m.options) {
                    if (o.rfind("! ", 0) == 0) {
                        o = o.substr(2);
                    }
                }
            }
        }
        if (exclusions.empty()) {
            exclusions = std::move(atoms);
        } else {
            exclusions.insert(exclusions.end(), std::make_move_iterator(atoms.begin()),
                              std::make_move_iterator(atoms.end()));
        }
        return {Spec{}};
    }
    return atoms;
}

std::vector<Alt> Emitter::apply(const std::vector<Alt>& alts, const Condition& c) const {
    // The options depend on an alternative only through its protocol (for ports): computed
    // once per protocol, so a condition of n atoms after one of m costs n + m, not n * m.
    struct Computed {
        Slot proto;
        std::vector<Spec> options;
        Exclusions exclusions;
    };
    std::vector<Computed> computed;
    std::vector<std::size_t> computed_of; // per alternative
    std::size_t total = 0;
    for (const auto& alt : alts) {
        auto it = std::find_if(computed.begin(), computed.end(),
                               [&](const Computed& k) { return k.proto == alt.spec.proto; });
        if (it == computed.end()) {
            std::vector<Spec> exclusions;
            auto options_of = options(c, alt.spec, exclusions);
            computed.push_back({alt.spec.proto, std::move(options_of),
                                exclusions.empty() ? nullptr
                                                   : std::make_shared<const std::vector<Spec>>(
                                                         std::move(exclusions))});
            it = computed.end() - 1;
        }
        computed_of.push_back(static_cast<std::size_t>(it - computed.begin()));
        total += it->options.size();
    }
    std::vector<Alt> next;
    next.reserve(total);
    for (std::size_t i = 0; i < alts.size(); ++i) {
        const Computed& k = computed[computed_of[i]];
        for (const auto& option : k.options) {
            Alt a = alts[i];
            if (!merge(a, option)) {
                continue;
            }
            if (k.exclusions) {
                a.exclusions.push_back(k.exclusions);
            }
            next.push_back(std::move(a));
        }
    }
    return next;
}

// Protocols first: port and ICMP matches depend on the protocol an alternative chose.
std::vector<Alt> Emitter::expand(const std::vector<Condition>& conditions) const {
    std::vector<Alt> alts{Alt{}};
    for (const auto& c : conditions) {
        if (c.field == Field::l4proto) {
            alts = apply(alts, c);
        }
    }
    for (const auto& c : conditions) {
        if (c.field != Field::l4proto) {
            alts = apply(alts, c);
        }
    }
    return alts;
}

void Emitter::line(std::size_t index, const Spec& spec, const std::string& origin,
                   const std::string& target) {
    ChainOut& chain = out_[index];
    line_ = "-A ";
    line_ += chain.name;
    append_spec_text(line_, spec);
    if (!origin.empty()) {
        line_ += " -m comment --comment " + quoted(comment_text(origin));
    }
    if (!target.empty()) {
        line_ += ' ';
        line_ += target;
    }
    line_ += '\n';
    chain.append(line_);
}

// One rule's statements for one alternative, one iptables rule per statement (and per map
// entry group).
void Emitter::emit_statements(std::size_t index, const Spec& spec, const rules::Rule& rule,
                              const std::string& miss) {
    const bool returns =
        !rule.statements.empty() && (rule.statements.back().kind == Statement::Kind::ret ||
                                     rule.statements.back().kind == Statement::Kind::accept);
    for (std::size_t i = 0; i < rule.statements.size(); ++i) {
        const Statement& s = rule.statements[i];
        // A count followed by return is one goto: the counter chain ends and returns to the
        // caller of this chain.
        const bool then_return = returns && i + 2 == rule.statements.size() &&
                                 rule.statements.back().kind == Statement::Kind::ret;
        const std::string how = then_return ? "-g " : "-j ";
        switch (s.kind) {
        case Statement::Kind::count:
            line(index, spec, rule.origin, how + counters_.at(s.name));
            if (then_return) {
                return;
            }
            break;
        case Statement::Kind::count_map:
            emit_count_map(index, spec, rule.origin, s, how, then_return ? miss : std::string());
            if (then_return) {
                return;
            }
            break;
        case Statement::Kind::quota:
            // The quota's charge chain charges its nfacct object (and drops past it).
            line(index, spec, rule.origin, how + charges_.at(s.name));
            break;
        case Statement::Kind::quota_map:
            emit_count_map(index, spec, rule.origin, s, how, std::string());
            break;
        case Statement::Kind::hash_goto:
            throw std::logic_error("host set parts reach the iptables emitter (LowerOptions)");
        case Statement::Kind::count_elements:
        case Statement::Kind::dispatch:
        case Statement::Kind::go:
            throw std::logic_error("element counters reach the iptables emitter (nft only)");
        case Statement::Kind::mark_packet:
        case Statement::Kind::unmark_packet:
            throw std::logic_error("a packet mark reaches the iptables emitter");
        case Statement::Kind::set_mark:
            line(index, spec, rule.origin,
                 "-j CONNMARK --set-xmark " + hex(s.mark_bit) + "/" + hex(s.mark_bit));
            break;
        case Statement::Kind::update_set: {
            const bool source = ipset_hosts::source_side(s.key.front());
            const PeerSet& set = sets_.at(s.name);
            if (ipset_hosts::counts(*set.set)) {
                for (const auto& part : ipset_hosts::update_rules(set.name, source, *set.set,
                                                                  rule.origin, then_return)) {
                    Spec with = spec;
                    with.matches.push_back({"set", {part.match}});
                    line(index, with, part.comment, part.target);
                }
                if (then_return) {
                    return; // the update rules return once the host is in the set
                }
                break;
            }
            line(index, spec, rule.origin,
                 "-j SET --add-set " + set.name + (source ? " src" : " dst") + " --exist");
            break;
        }
        case Statement::Kind::accept:
        case Statement::Kind::ret:
            // acctc's accept ends acctc's chains only, as in nft where it ends acctc's table.
            line(index, spec, rule.origin, "-j RETURN");
            break;
        case Statement::Kind::drop:
            if (i > 0 && (rule.statements[i - 1].kind == Statement::Kind::quota ||
                          rule.statements[i - 1].kind == Statement::Kind::quota_map)) {
                break; // `quota ... drop`: the charge chain drops, only past the budget
            }
            line(index, spec, rule.origin, "-j DROP");
            break;
        case Statement::Kind::jump:
            line(index, spec, rule.origin, "-j " + chains_.at(s.name));
            break;
        }
    }
}

// The key's entries `entries` (indices into s.entries), grouped by counter (and the leading key
// fields) with the last field merged, one rule per group, each going `how` to its counter.
// Grouped through an index: a classification of 100,000 classes has as many groups.
void Emitter::emit_entries(std::size_t index, const Spec& spec, const std::string& origin,
                           const Statement& s, const std::vector<std::size_t>& entries,
                           const std::string& how) {
    std::vector<std::pair<std::pair<std::string, std::vector<Interval>>, IntervalSet>> groups;
    std::map<std::pair<std::string, std::vector<Interval>>, std::size_t> group_index;
    for (std::size_t e : entries) {
        const rules::MapEntry& entry = s.entries[e];
        std::pair<std::string, std::vector<Interval>> key{entry.counter,
                                                          {entry.key.begin(), entry.key.end() - 1}};
        auto [at, added] = group_index.emplace(key, groups.size());
        if (added) {
            groups.push_back({std::move(key), {}});
        }
        groups[at->second].second.add(entry.key.back().lo, entry.key.back().hi);
    }
    // On IPv6 the AH entry takes AH's packets from the other protocols' entries.
    const bool ah_entry = ah_apart(s);
    for (const auto& [key, last] : groups) {
        std::vector<Condition> conditions;
        if (ah_entry && !last.contains(proto_ah)) {
            Condition not_ah;
            not_ah.field = Field::l4proto;
            not_ah.negate = true;
            not_ah.numbers = IntervalSet::single(proto_ah);
            conditions.push_back(std::move(not_ah));
        }
        for (std::size_t f = 0; f < s.key.size(); ++f) {
            Condition c;
            c.field = s.key[f];
            if (f + 1 < s.key.size()) {
                c.numbers = IntervalSet::range(key.second[f].lo, key.second[f].hi);
            } else {
                c.numbers = last;
            }
            conditions.push_back(std::move(c));
        }
        for (auto& alt : expand(conditions)) {
            Alt full{spec, {}};
            if (!merge(full, alt.spec)) {
                continue;
            }
            if (!alt.exclusions.empty() || !full.exclusions.empty()) {
                throw std::logic_error("count map key needs an exclusion");
            }
            line(index, full.spec, origin, how + entry_chain(s, key.first));
        }
    }
}

// IPv6 maps keyed by the protocol alone, with an AH entry: `-m ah` finds AH where nft's
// l4proto stops, and the other protocols' rules leave AH's packets to it.
bool Emitter::ah_apart(const Statement& s) const {
    return family_ == Family::v6 && s.key.size() == 1 && s.key[0] == Field::l4proto &&
           std::any_of(s.entries.begin(), s.entries.end(), [](const rules::MapEntry& e) {
               return e.key[0].lo <= proto_ah && proto_ah <= e.key[0].hi;
           });
}

const iptables::LookupTree& Emitter::plan(const Statement& s) {
    auto [at, added] = plans_.try_emplace(&s);
    if (added) {
        std::vector<unsigned> widths;
        std::vector<bool> aligned;
        for (Field f : s.key) {
            widths.push_back(rules::info(f).width);
            aligned.push_back(rules::info(f).iptables == rules::IptablesForm::address);
        }
        iptables::LookupShape shape;
        shape.max_depth = tree_max_depth_;
        if (tree_max_depth_ == 0) { // one leaf: the entries in a row
            at->second.nodes.resize(1);
            for (std::size_t e = 0; e < s.entries.size(); ++e) {
                at->second.nodes[0].entries.push_back(e);
            }
        } else {
            at->second = iptables::plan_lookup_tree(s.entries, widths, aligned, shape);
        }
    }
    return at->second;
}

// A rule that may end its chain through a lookup tree (a count map of a tree's size, returning).
bool may_have_tree(const rules::Rule& rule) {
    const auto& st = rule.statements;
    return st.size() >= 2 && st.back().kind == Statement::Kind::ret &&
           st[st.size() - 2].kind == Statement::Kind::count_map &&
           st[st.size() - 2].entries.size() >= iptables::LookupShape{}.min_entries;
}

// The levels each of the trees of `sizes` entries (in chain order) may nest, when after the
// first each is entered from the continuation chain below the last one's leaves (two levels
// more), all within one tree's depth. A walk of a tree of n entries and depth d costs about
// d * (n / leaf)^(1/d) rules: each level goes where it shortens the walk most. Trees that find
// no room (three fit at most) are their entries in a row, the smallest first.
std::vector<std::size_t> share_depth(const std::vector<std::size_t>& sizes) {
    const iptables::LookupShape shape;
    const auto cost = [&](std::size_t n, std::size_t d) {
        const double leaves = std::ceil(static_cast<double>(n) / shape.leaf_size);
        return d == 0 ? static_cast<double>(n)
                      : static_cast<double>(d) * std::pow(leaves, 1.0 / static_cast<double>(d));
    };
    std::vector<std::size_t> depth(sizes.size(), 1);
    std::size_t trees = sizes.size();
    while (trees > 0 && 3 * trees - 2 > shape.max_depth) {
        std::size_t smallest = sizes.size();
        for (std::size_t t = 0; t < sizes.size(); ++t) {
            if (depth[t] != 0 && (smallest == sizes.size() || sizes[t] < sizes[smallest])) {
                smallest = t;
            }
        }
        depth[smallest] = 0;
        --trees;
    }
    for (std::size_t left = trees == 0 ? 0 : shape.max_depth - (3 * trees - 2); left > 0; --left) {
        std::size_t best = 0;
        double gain = -1;
        for (std::size_t t = 0; t < sizes.size(); ++t) {
            if (depth[t] != 0 && cost(sizes[t], depth[t]) - cost(sizes[t], depth[t] + 1) > gain) {
                gain = cost(sizes[t], depth[t]) - cost(sizes[t], depth[t] + 1);
                best = t;
            }
        }
        ++depth[best];
    }
    return depth;
}

// What `levels` left of one tree's depth still holds: the depth given, or less.
std::size_t depth_left(std::size_t given, std::size_t levels) {
    const std::size_t whole = iptables::LookupShape{}.max_depth;
    return std::min(given, whole > levels ? whole - levels : 0);
}

// Whether a rule ends its chain through a lookup tree, whose misses go on with the rest of the
// chain in a continuation chain.
bool Emitter::has_tree(const rules::Rule& rule) {
    return may_have_tree(rule) &&
           !plan(rule.statements[rule.statements.size() - 2]).nodes.front().children.empty();
}

// A count map: its entries' rules in the chain when they are few, else a lookup tree
// (iptables_tree.hpp) entered `how` (-g when the map ends the chain, -j otherwise) for the
// packets `spec` matches. Misses leave the tree by `miss` (empty: the tree's chains end, which
// returns to the caller of the chain the tree was entered from by -j).
void Emitter::emit_count_map(std::size_t index, const Spec& spec, const std::string& origin,
                             const Statement& s, const std::string& how, const std::string& miss) {
    const auto& tree = plan(s);
    if (tree.nodes.front().children.empty()) {
        emit_entries(index, spec, origin, s, tree.nodes.front().entries, how);
        return;
    }
    const std::string root = new_chain(tree_role_ + "-" + std::to_string(tree_chains_++));
    line(index, spec, origin, how + root);
    // Below the entry the leaves need only the protocol that the key's port tests name.
    Spec context;
    if (!spec.proto.negate) {
        context.proto = spec.proto;
    }
    emit_node(out_.size() - 1, tree, 0, context, origin, s, miss);
}

void Emitter::emit_node(std::size_t index, const iptables::LookupTree& tree, std::size_t node,
                        const Spec& context, const std::string& origin, const Statement& s,
                        const std::string& miss) {
    const iptables::LookupNode& n = tree.nodes[node];
    if (n.children.empty()) {
        // The leaf's rules go to the counter and end there: the counter chain returns to the
        // caller of the chain the tree was entered from.
        emit_entries(index, context, origin, s, n.entries, "-g ");
        if (!miss.empty()) {
            line(index, Spec{}, origin, miss);
        }
        return;
    }
    const Field field = s.key[n.field];
    for (std::size_t c = 0; c < n.children.size(); ++c) {
        const auto& child = n.children[c];
        // Below a protocol's branch, port tests name that protocol.
        Spec below = context;
        if (field == Field::l4proto && child.values.parts().size() == 1 &&
            child.values.parts()[0].lo == child.values.parts()[0].hi) {
            const auto p = static_cast<std::uint8_t>(child.values.parts()[0].lo);
            if (p == 6 || p == 17 || p == 33 || p == 132 || p == 136) {
                below.proto = {false, protocol_text(p)};
            }
        }
        if (c + 1 == n.children.size()) {
            emit_node(index, tree, child.node, below, origin, s, miss); // the rest: no test
            return;
        }
        const auto& leaf = tree.nodes[child.node];
        if (leaf.children.empty() && leaf.entries.size() == 1) {
            // One entry: its own rules are the test (a packet they miss has no entry here).
            emit_entries(index, below, origin, s, leaf.entries, "-g ");
            continue;
        }
        const std::string name = new_chain(tree_role_ + "-" + std::to_string(tree_chains_++));
        const std::size_t child_index = out_.size() - 1;
        for (const auto& test : route_tests(s, child, field, context)) {
            line(index, test, origin, "-g " + name);
        }
        emit_node(child_index, tree, child.node, below, origin, s, miss);
    }
}

// The rules that send a packet to `child`: they accept every value the child holds and none of
// a later child's (values past child.limit). Addresses use the smallest prefix holding the
// child's range when it ends by the limit; protocols and ICMP types list the child's values;
// other fields test the range from the child's first value to its last.
std::vector<Spec> Emitter::route_tests(const Statement& s, const iptables::LookupNode::Child& child,
                                       Field field, const Spec& context) const {
    const rules::FieldInfo& info = rules::info(field);
    const u128 lo = child.values.parts().front().lo;
    const u128 hi = child.values.parts().back().hi;
    Condition c;
    c.field = field;
    c.numbers = IntervalSet::range(lo, hi);
    if (info.iptables == rules::IptablesForm::address) {
        unsigned host = 0;
        while (host < info.width && (lo >> host) != (hi >> host)) {
            ++host;
        }
        const Prefix prefix{lo & ~low_bits(host), info.width - host};
        if ((prefix.base | low_bits(host)) <= child.limit && prefix.length > 0) {
            Spec spec;
            const bool source = field == Field::ip_saddr || field == Field::ip6_saddr;
            (source ? spec.src : spec.dst) = AddressSlot{false, info.width, prefix};
            return {spec};
        }
    } else if (info.iptables == rules::IptablesForm::protocol ||
               info.iptables == rules::IptablesForm::icmp_type) {
        c.numbers = child.values;
    }
    std::vector<Spec> exclusions;
    auto tests = options(c, context, exclusions);
    if (!exclusions.empty()) {
        throw std::logic_error("a lookup tree's test needs an exclusion");
    }
    if (field == Field::l4proto && ah_apart(s) && !child.values.contains(proto_ah)) {
        // ip6tables-legacy's -p looks past AH: AH's packets stay for the AH entry's branch.
        for (auto& test : tests) {
            test.matches.push_back(without_ah());
        }
    }
    return tests;
}

// A condition on a count map's own key field (`icmp type { 0, 8 } counter name icmp type map`)
// is folded into the entries: iptables matches the key per entry, and a second match on the same
// field would be redundant at best.
rules::Rule fold_key_conditions(const rules::Rule& rule) {
    rules::Rule out = rule;
    for (auto& s : out.statements) {
        if (s.kind != Statement::Kind::count_map) {
            continue;
        }
        for (std::size_t f = 0; f < s.key.size(); ++f) {
            auto c = std::find_if(out.conditions.begin(), out.conditions.end(), [&](const auto& x) {
                return x.field == s.key[f] && !x.negate && x.set.empty();
            });
            if (c == out.conditions.end()) {
                continue;
            }
            std::vector<rules::MapEntry> entries;
            for (const auto& entry : s.entries) {
                const auto kept =
                    IntervalSet::range(entry.key[f].lo, entry.key[f].hi).intersect(c->numbers);
                for (const auto& part : kept.parts()) {
                    rules::MapEntry e = entry;
                    e.key[f] = part;
                    entries.push_back(std::move(e));
                }
            }
            s.entries = std::move(entries);
            out.conditions.erase(c);
        }
    }
    return out;
}

// Emits rules[begin..] into chain `index`. A rule whose negation needs several rules gets a
// sub-chain: `-j` to it when the rule does not end the chain (exclusions RETURN), `-g` when it
// does (exclusions go on with the rest of this chain, moved into a continuation chain, so that
// RETURN and goto-to-a-counter keep reaching this chain's caller).
void Emitter::emit_chain(std::size_t index, const std::string& role,
                         const std::vector<rules::Rule>& rules, std::size_t begin,
                         std::size_t levels) {
    if (begin == 0) { // the chain's first call; continuations come back with later rules
        std::vector<std::size_t> at;
        std::vector<std::size_t> sizes;
        for (std::size_t i = 0; i < rules.size(); ++i) {
            if (for_family(rules[i], family_) && may_have_tree(rules[i])) {
                at.push_back(i);
                sizes.push_back(rules[i].statements[rules[i].statements.size() - 2].entries.size());
            }
        }
        tree_depths_.assign(rules.size(), 0);
        const auto depths = share_depth(sizes);
        for (std::size_t t = 0; t < at.size(); ++t) {
            tree_depths_[at[t]] = depths[t];
        }
    }
    for (std::size_t i = begin; i < rules.size(); ++i) {
        const rules::Rule rule = fold_key_conditions(rules[i]);
        if (!for_family(rule, family_)) {
            continue;
        }
        // The share planned, or what the stages of exclusions before it left of it.
        tree_max_depth_ = may_have_tree(rules[i]) ? depth_left(tree_depths_[i], levels)
                                                  : iptables::LookupShape{}.max_depth;
        const auto alts = expand(rule.conditions);
        const bool ends_chain =
            !rule.statements.empty() && (rule.statements.back().kind == Statement::Kind::ret ||
                                         rule.statements.back().kind == Statement::Kind::accept);
        const bool more =
            std::any_of(rules.begin() + static_cast<std::ptrdiff_t>(i) + 1, rules.end(),
                        [&](const auto& r) { return for_family(r, family_); });
        plans_.clear();
        tree_role_ = role + "-t" + std::to_string(i);
        tree_chains_ = 0;
        // The rest of the chain, in a continuation chain when this rule ends the chain through
        // a lookup tree (whose misses go there) or through exclusion stages.
        std::string rest;
        std::size_t rest_index = 0;
        auto make_rest = [&] {
            if (more && rest.empty()) {
                rest = new_chain(role + "-r" + std::to_string(i));
                rest_index = out_.size() - 1;
            }
        };
        if (ends_chain && has_tree(rule)) {
            make_rest();
        }
        const std::string miss = rest.empty() ? std::string() : "-g " + rest;
        std::vector<const Alt*> vetoed;
        for (const auto& alt : alts) {
            if (alt.exclusions.empty()) {
                emit_statements(index, alt.spec, rule, miss);
            } else {
                vetoed.push_back(&alt);
            }
        }
        if (vetoed.empty()) {
            if (!rest.empty()) {
                // Packets no alternative took go on with the rest, too.
                line(index, Spec{}, rule.origin, miss);
                emit_chain(rest_index, role + "-r" + std::to_string(i), rules, i + 1,
                           levels + tree_max_depth_ + 2);
                return;
            }
            continue;
        }
        const std::string sub_role = role + "-x" + std::to_string(i);
        // Alternatives with the same exclusions (as text) share a sub-chain. Each shared list
        // is printed once; an alternative's key is the numbers of its lists' texts.
        std::map<const std::vector<Spec>*, std::size_t> list_ids;
        std::map<std::string, std::size_t> text_ids;
        auto list_id = [&](const Exclusions& list) {
            auto [it, added] = list_ids.emplace(list.get(), 0);
            if (added) {
                std::string text;
                for (const auto& e : *list) {
                    text += spec_text(e) + "\n";
                }
                it->second = text_ids.emplace(std::move(text), text_ids.size()).first->second;
            }
            return it->second;
        };
        std::vector<std::vector<const Alt*>> groups;
        std::map<std::vector<std::size_t>, std::size_t> group_of_key;
        for (const Alt* alt : vetoed) {
            std::vector<std::size_t> key;
            for (const auto& list : alt->exclusions) {
                key.push_back(list_id(list));
            }
            auto [it, added] = group_of_key.emplace(std::move(key), groups.size());
            if (added) {
                groups.emplace_back();
            }
            groups[it->second].push_back(alt);
        }
        // The specs of a group's exclusions, in order.
        auto vetoes = [&](std::size_t g, auto&& each) {
            for (const auto& list : groups[g].front()->exclusions) {
                for (const auto& e : *list) {
                    each(e);
                }
            }
        };
        std::vector<std::string> stages;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            stages.push_back(
                new_chain(groups.size() == 1 ? sub_role : sub_role + "-" + std::to_string(g)));
        }
        const std::size_t first_stage = out_.size() - groups.size();
        if (!ends_chain) {
            for (std::size_t g = 0; g < groups.size(); ++g) {
                line(index, Spec{}, rule.origin, "-j " + stages[g]);
                vetoes(g,
                       [&](const Spec& e) { line(first_stage + g, e, rule.origin, "-j RETURN"); });
                for (const Alt* alt : groups[g]) {
                    emit_statements(first_stage + g, alt->spec, rule, {});
                }
            }
            continue;
        }
        // Ends the chain: goto the first stage; each stage goes on to the next and the last to
        // the continuation (or returns when nothing follows).
        make_rest();
        line(index, Spec{}, rule.origin, "-g " + stages.front());
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const std::size_t sub = first_stage + g;
            const std::string next = g + 1 < groups.size() ? stages[g + 1] : rest;
            vetoes(g, [&](const Spec& e) {
                line(sub, e, rule.origin, next.empty() ? "-j RETURN" : "-g " + next);
            });
            for (const Alt* alt : groups[g]) {
                emit_statements(sub, alt->spec, rule, next.empty() ? "" : "-g " + next);
            }
            if (!next.empty()) {
                line(sub, Spec{}, rule.origin, "-g " + next);
            }
        }
        if (more) {
            // Below the stages (and the trees some of them may hold).
            emit_chain(rest_index, role + "-r" + std::to_string(i), rules, i + 1,
                       levels + groups.size() + tree_max_depth_ + 2);
        }
        return;
    }
}

// The restore text, assembled in one allocation; each chain's rules are released once copied.
std::string Emitter::family_text(const std::vector<std::pair<std::string, std::string>>& jumps) {
    std::string head = "*filter\n";
    for (const auto& chain : out_) {
        head += ":" + chain.name + " - [0:0]\n";
    }
    std::string tail;
    for (const auto& [builtin, chain] : jumps) {
        tail += "-I " + builtin + " 1 -m comment --comment " +
                quoted(iptables::jump_comment(table_.policy)) + " -j " + chain + "\n";
    }
    tail += "COMMIT\n";
    std::size_t size = head.size() + tail.size();
    for (const auto& chain : out_) {
        for (const auto& block : chain.blocks) {
            size += block.size();
        }
    }
    std::string text;
    text.reserve(size);
    text += head;
    for (auto& chain : out_) {
        for (const auto& block : chain.blocks) {
            text += block;
        }
        std::vector<std::string>().swap(chain.blocks);
    }
    text += tail;
    return text;
}

IptablesText Emitter::run() {
    IptablesText result;
    for (const auto& set : table_.sets) {
        const PeerSet& s = sets_.at(set.name);
        result.ipset += ipset_hosts::counts(set)
                            ? ipset_hosts::create_line(s.name, set)
                            : "create " + s.name + " hash:ip family " + (s.v6 ? "inet6" : "inet") +
                                  " timeout " + std::to_string(set.timeout_seconds) +
                                  " maxelem 65535\n";
        result.sets.push_back(s.name);
    }
    for (const auto& counter : table_.counters) {
        result.counter_chains.emplace_back(counter.name, counters_.at(counter.name));
    }
    for (Family family : {Family::v4, Family::v6}) {
        family_ = family;
        out_.clear();
        used_names_.clear();
        std::vector<std::pair<std::string, std::string>> jumps;
        for (const auto& counter : table_.counters) {
            const std::string name = counters_.at(counter.name);
            if (!used_names_.insert(name).second) {
                throw std::logic_error("iptables chain name " + name + " is used twice");
            }
            out_.push_back({name, {}});
            line(out_.size() - 1, Spec{}, {},
                 "-m comment --comment " +
                     quoted(iptables::counter_comment(counter.name, counter.identity)));
        }
        // A quota's charge chain: -m nfacct charges every packet and matches once the object
        // is over its quota (docs/iptables.md, "Quotas"); the comment says what the object is.
        for (const auto& object : table_.quotas) {
            const std::string name = charges_.at(object.name);
            if (!used_names_.insert(name).second) {
                throw std::logic_error("iptables chain name " + name + " is used twice");
            }
            out_.push_back({name, {}});
            // Two spaces, as libxt_nfacct prints it back (iptables-save): diff compares the two.
            Spec charge;
            charge.matches.push_back(
                {"nfacct",
                 {"--nfacct-name  " +
                  iptables::quota_object(table_.policy, object.bytes, object.identity)}});
            line(out_.size() - 1, charge, encode_charge_comment(object.identity),
                 object.identity.drop ? "-j DROP" : "");
        }
        for (const auto& chain : table_.chains) {
            if (chain.hook == rules::Hook::ingress || chain.hook == rules::Hook::prerouting ||
                chain.hook == rules::Hook::egress) {
                throw std::logic_error(
                    "ingress, prerouting or egress chains reach the iptables emitter");
            }
            const std::string name = chains_.at(chain.name);
            const std::string role = name.substr(iptables::owned_prefix(table_.policy).size());
            if (!used_names_.insert(name).second) {
                throw std::logic_error("iptables chain name " + name + " is used twice");
            }
            out_.push_back({name, {}});
            emit_chain(out_.size() - 1, role, chain.rules, 0);
            if (chain.hook) {
                static constexpr const char* builtin[] = {"INPUT", "OUTPUT", "FORWARD"};
                jumps.emplace_back(builtin[static_cast<int>(*chain.hook)], name);
            }
        }
        (family == Family::v4 ? result.v4 : result.v6) = family_text(jumps);
    }
    return result;
}

} // namespace

IptablesText emit_iptables(const rules::Table& table) {
    return Emitter(table).run();
}

} // namespace acctc
