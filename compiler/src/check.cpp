#include "check.hpp"

#include "check_hosts.hpp"
#include "check_opener.hpp"
#include "dual_stack_warnings.hpp"
#include "families.hpp"
#include "well_known.hpp"
#include "wire_warnings.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <map>
#include <set>

namespace acctc {
namespace {

using ast::Item;

struct NetworkAlias {
    IntervalSet v4;
    IntervalSet v6;
};

// The addresses of one list, collected and then merged once: a list of n addresses costs
// O(n log n), not n insertions into a sorted set.
struct AddressList {
    std::vector<Interval> v4;
    std::vector<Interval> v6;

    void add(const NetworkAlias& alias) {
        v4.insert(v4.end(), alias.v4.parts().begin(), alias.v4.parts().end());
        v6.insert(v6.end(), alias.v6.parts().begin(), alias.v6.parts().end());
    }
    NetworkAlias merged() && {
        return {IntervalSet::of(std::move(v4)), IntervalSet::of(std::move(v6))};
    }
};

enum class Context { counter, classify_header, class_branch, verdict };

// What a clause list says beyond the packet match (counters only).
struct CounterExtras {
    bool follow = false;
    std::vector<ir::ListenPort> listen;
    std::vector<ir::SplitSpec> splits;
    std::vector<SourceRange> split_ranges;
    std::optional<ir::HostSplit> host;
    ir::Verdict verdict = ir::Verdict::none;
    std::optional<std::uint64_t> peers_timeout;
    SourceRange follow_range;
};

// Where each clause kind was written, for diagnostics that name two places.
struct ClauseSites {
    std::optional<SourceRange> scope, direction, owner, via, fragment, ports, icmp, split_direction;
    std::optional<SourceRange> split_type, passive, forward, in, out, listen, follow, peers_ref;
    std::optional<SourceRange> split_opener;
};

bool is_identifier(std::string_view text) {
    if (text.empty() || !(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) {
        return false;
    }
    for (char c : text) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
            return false;
        }
    }
    return true;
}

class Checker {
  public:
    Checker(const SourceFile& file, const HostDatabase& hosts, Diagnostics& diagnostics)
        : file_(file), hosts_(hosts), diag_(diagnostics) {}

    ir::Policy run(const ast::Policy& policy);

  private:
    // The passes, in the order run() applies them.
    struct Pass {
        const char* name;
        void (Checker::*run)(const ast::Policy&);
    };
    void require_policy_header(const ast::Policy& policy);
    // Counter names first, so 'peers of' may name a counter declared further down.
    void index_counter_names(const ast::Policy& policy);
    void check_statements(const ast::Policy& policy);
    // Counters referenced by 'peers of' keep dynamic peer sets.
    void mark_peer_references(const ast::Policy& policy);
    void warn_wire(const ast::Policy& policy);
    static constexpr Pass passes[] = {
        {"policy header", &Checker::require_policy_header},
        {"counter names", &Checker::index_counter_names},
        {"statements", &Checker::check_statements},
        {"peer references", &Checker::mark_peer_references},
        {"wire and family warnings", &Checker::warn_wire},
    };

  private:
    const SourceFile& file_;
    const HostDatabase& hosts_;
    Diagnostics& diag_;
    ir::Policy out_;
    std::map<std::string, std::vector<std::string>, std::less<>> interfaces_;
    std::map<std::string, NetworkAlias, std::less<>> networks_;
    std::map<std::string, SourceRange, std::less<>> alias_sites_;
    std::map<std::string, std::size_t, std::less<>> counter_index_;
    std::map<std::string, SourceRange, std::less<>> produced_;
    std::map<std::string, SourceRange, std::less<>> statement_names_;
    unsigned following_counters_ = 0;

    void declare_policy(const ast::PolicyDecl& decl);
    void declare_alias(const ast::AliasDecl& decl);
    void declare_connmark(const ast::ConnmarkDecl& decl);
    void check_counter(const ast::CounterDecl& decl, bool duplicate);
    void check_classify(const ast::ClassifyDecl& decl);
    void check_verdict(const ast::VerdictDecl& decl);

    bool check_name(const ast::Token& name, const char* what, std::size_t limit = max_name_length);
    void produce(const std::string& name, SourceRange range);
    // False (and reported) when a counter or classify of that name exists already.
    bool declare_statement_name(const ast::Token& name);
    ir::Match read_match(const std::vector<ast::Clause>& clauses, Context context,
                         CounterExtras* extras, ClauseSites& sites, const std::string& self);
    void apply_defaults(ir::Match& match, const CounterExtras& extras, const ClauseSites& sites,
                        SourceRange where, Context context);

    std::optional<std::uint64_t> number(const Item& item, std::uint64_t max, const char* what);
    std::optional<std::uint16_t> port(const std::string& text, SourceRange range,
                                      const std::vector<std::uint8_t>& protocols);
    std::optional<IntervalSet> port_items(const std::vector<Item>& items,
                                          const std::vector<std::uint8_t>& protocols);
    std::optional<std::uint8_t> protocol(const Item& item);
    bool address_literal(const Item& item, AddressList& into);
    std::optional<std::uint64_t> duration(const Item& item);
    bool add_network(const Item& item, AddressList& into);
    bool network_item(const Item& item, IntervalSet& v4, IntervalSet& v6);
    std::optional<std::string> device(const Item& item);
    std::optional<std::string> cgroup_path(const Item& item);
    void warn_outgoing_only(const ir::Match& match, bool follow, const ClauseSites& sites,
                            Context context, std::size_t errors_before);
};

// ---------------------------------------------------------------------------------------
// Values

std::optional<std::uint64_t> Checker::number(const Item& item, std::uint64_t max,
                                             const char* what) {
    std::uint64_t value = 0;
    std::string_view text = item.text;
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size() || value > max) {
        diag_.error(item.range, std::string(what) + " " + item.text + " is out of range (0.." +
                                    std::to_string(max) + ")");
        return std::nullopt;
    }
    return value;
}

std::optional<std::uint16_t> Checker::port(const std::string& text, SourceRange range,
                                           const std::vector<std::uint8_t>& protocols) {
    if (std::isdigit(static_cast<unsigned char>(text.front()))) {
        auto value = number(Item{Item::Kind::number, text, {}, {}, range}, 65535, "port");
        return value ? std::optional(static_cast<std::uint16_t>(*value)) : std::nullopt;
    }
    for (std::uint8_t protocol : protocols) {
        if (auto found = hosts_.service_port(text, protocol_name(protocol))) {
            return found;
        }
    }
    std::string names;
    for (std::uint8_t protocol : protocols) {
        names += (names.empty() ? "" : "/") + protocol_name(protocol);
    }
    diag_.error(range, "unknown service '" + text + "' for " + names +
                           " (not in the services file); use a port number");
    return std::nullopt;
}

std::optional<IntervalSet> Checker::port_items(const std::vector<Item>& items,
                                               const std::vector<std::uint8_t>& protocols) {
    std::vector<Interval> ports; // merged once at the end, like address lists
    bool ok = true;
    for (const Item& item : items) {
        if (item.kind != Item::Kind::range) {
            auto value = port(item.text, item.range, protocols);
            ok = ok && value.has_value();
            if (value) {
                ports.push_back({*value, *value});
            }
            continue;
        }
        const SourceRange lower_range{item.range.begin, item.range.begin + item.text.size()};
        const SourceRange upper_range{item.range.begin + item.text.size() + 2, item.range.end};
        auto lo = port(item.text, lower_range, protocols);
        auto hi = item.upper.empty() ? std::optional<std::uint16_t>(65535)
                                     : port(item.upper, upper_range, protocols);
        if (!lo || !hi) {
            ok = false;
            continue;
        }
        if (*lo > *hi) {
            diag_.error(item.range, "reversed port range: " + std::to_string(*lo) + " is above " +
                                        std::to_string(*hi) + "; write " + item.upper + ".." +
                                        item.text);
            ok = false;
            continue;
        }
        ports.push_back({*lo, *hi});
    }
    return ok ? std::optional(IntervalSet::of(std::move(ports))) : std::nullopt;
}

std::optional<std::uint8_t> Checker::protocol(const Item& item) {
    if (item.kind == Item::Kind::number) {
        auto value = number(item, 255, "protocol number");
        return value ? std::optional(static_cast<std::uint8_t>(*value)) : std::nullopt;
    }
    if (auto found = protocol_number(item.text)) {
        return found;
    }
    diag_.error(item.range, "unknown protocol '" + item.text +
                                "'; use a name like tcp, udp, icmp, icmpv6, gre, esp or a number");
    return std::nullopt;
}

bool Checker::address_literal(const Item& item, AddressList& into) {
    const std::string& text = item.text;
    const auto slash = text.find('/');
    const std::string host = text.substr(0, slash);
    const bool v6 = host.find(':') != std::string::npos;
    unsigned char bytes[16] = {};
    if (inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), bytes) != 1) {
        diag_.error(item.range,
                    "'" + text + "' is not a valid " + (v6 ? "IPv6" : "IPv4") + " address");
        return false;
    }
    const unsigned width = v6 ? 128 : 32;
    unsigned length = width;
    if (slash != std::string::npos) {
        auto parsed = number(Item{Item::Kind::number,
                                  text.substr(slash + 1),
                                  {},
                                  {},
                                  {item.range.begin + slash + 1, item.range.end}},
                             width, "prefix length");
        if (!parsed) {
            return false;
        }
        length = static_cast<unsigned>(*parsed);
    }
    u128 value = 0;
    for (unsigned i = 0; i < width / 8; ++i) {
        value = (value << 8) | bytes[i];
    }
    const u128 host_mask = low_bits(width - length);
    if ((value & host_mask) != 0) {
        const u128 network = value & ~host_mask;
        diag_.error(item.range, "'" + text + "' has host bits set; did you mean " +
                                    (v6 ? format_ipv6(network) : format_ipv4(network)) + "/" +
                                    std::to_string(length) + "?");
        return false;
    }
    (v6 ? into.v6 : into.v4).push_back({value, value | host_mask});
    return true;
}

// An address literal or network alias into `into`; false (reported) when it is neither.
bool Checker::add_network(const Item& item, AddressList& into) {
    if (item.kind == Item::Kind::address) {
        return address_literal(item, into);
    }
    if (auto found = networks_.find(item.text); found != networks_.end()) {
        into.add(found->second);
        return true;
    }
    diag_.error(item.range, "unknown network '" + item.text + "'; define it first: network " +
                                item.text + " = 198.18.0.0/24");
    return false;
}

// A network alias or literal of a `split host ... within` list, added to v4/v6.
bool Checker::network_item(const Item& item, IntervalSet& v4, IntervalSet& v6) {
    AddressList values;
    if (!add_network(item, values)) {
        return false;
    }
    NetworkAlias merged = std::move(values).merged();
    for (const auto& part : merged.v4.parts()) {
        v4.add(part.lo, part.hi);
    }
    for (const auto& part : merged.v6.parts()) {
        v6.add(part.lo, part.hi);
    }
    return true;
}

std::optional<std::uint64_t> Checker::duration(const Item& item) {
    std::uint64_t total = 0;
    std::uint64_t current = 0;
    for (char c : item.text) {
        if (c >= '0' && c <= '9') {
            current = current * 10 + static_cast<std::uint64_t>(c - '0');
            if (current > 100000000) {
                break;
            }
            continue;
        }
        const std::uint64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : 86400;
        total += current * unit;
        current = 0;
    }
    constexpr std::uint64_t max_seconds = 365ULL * 86400;
    if (total == 0 || total > max_seconds || current != 0) {
        diag_.error(item.range, "duration " + item.text + " is out of range (1s..365d)");
        return std::nullopt;
    }
    return total;
}

// Interface names reach nft and iptables text: what Linux accepts (at most 15 bytes, not "."
// or "..", no '/', ':' or whitespace; '%' makes the kernel read a "%d" template), printable
// ASCII only, and without the two bytes nft cannot carry in a quoted string ('"', '\'); '*'
// only at the end, where it is a wildcard.
// Inside nft's quotes and as one iptables argument every other byte is taken as it is (the
// kernel tests load every byte), and ingress chain names escape what nft cannot take.
std::optional<std::string> Checker::device(const Item& item) {
    const std::string& name = item.text;
    bool ok = !name.empty() && name.size() <= 15 && name != "." && name != "..";
    for (std::size_t i = 0; ok && i < name.size(); ++i) {
        const char c = name[i];
        ok = (c > ' ' && c < 0x7f &&
              std::string_view("/:%\"\\*").find(c) == std::string_view::npos) ||
             (c == '*' && i + 1 == name.size());
    }
    if (name == "*") {
        diag_.error(item.range, "'*' alone would match every interface (and nft refuses a "
                                "wildcard without a prefix); leave 'via' out to count on all");
        return std::nullopt;
    }
    if (!ok) {
        diag_.error(item.range,
                    "'" + name.substr(0, 40) + (name.size() > 40 ? "..." : "") +
                        "' is not an interface name acctc can use: at most 15 "
                        "printable ASCII characters other than '/', ':', '%', '\"', "
                        "'\\' and space (and not \".\" or \"..\"), optionally ending in "
                        "the wildcard '*'");
        return std::nullopt;
    }
    return name;
}

// A cgroup path as the kernel resolves it: from the cgroup2 root, without empty or '.'
// components. The level nft matches at is counted from this form, so "a//b", "./a/b" and
// "/a/b/" all mean the cgroup a/b at level 2 (counted from the raw text, the rule would look
// at a level the socket's cgroup does not have and silently never match).
std::optional<std::string> Checker::cgroup_path(const Item& item) {
    const std::string& raw = item.text;
    bool ok = raw.size() <= 255;
    for (char c : raw) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("._-@:+=,/").find(c) != std::string_view::npos);
    }
    if (!ok) {
        diag_.error(item.range, "cgroup path must be a path below the cgroup2 root, like "
                                "\"system.slice/skype.service\" (at most 255 letters, digits "
                                "and ._-@:+=,/)");
        return std::nullopt;
    }
    std::string path;
    for (std::size_t begin = 0; begin <= raw.size();) {
        const std::size_t end = std::min(raw.find('/', begin), raw.size());
        const std::string_view part = std::string_view(raw).substr(begin, end - begin);
        if (part == "..") {
            const std::size_t at = item.range.begin + 1 + begin; // past the opening quote
            diag_.error({at, at + 2}, "'..' in a cgroup path: give the path from the cgroup2 "
                                      "root without it");
            return std::nullopt;
        }
        if (!part.empty() && part != ".") {
            path += (path.empty() ? "" : "/") + std::string(part);
        }
        begin = end + 1;
    }
    if (path.empty()) {
        diag_.error(item.range, "cgroup path \"" + raw +
                                    "\" is the cgroup2 root, which holds every process; name a "
                                    "cgroup below it, like \"system.slice/skype.service\"");
        return std::nullopt;
    }
    return path;
}

// ---------------------------------------------------------------------------------------
// Declarations

bool Checker::check_name(const ast::Token& name, const char* what, std::size_t limit) {
    if (name.text.size() > limit) {
        diag_.error(name.range, std::string(what) + " name is " + std::to_string(name.text.size()) +
                                    " characters long; at most " + std::to_string(limit) +
                                    " are allowed");
        return false;
    }
    if (!is_identifier(name.text)) {
        diag_.error(name.range, std::string(what) + " name '" + name.text +
                                    "' may hold only letters, digits and '_'");
        return false;
    }
    return true;
}

void Checker::produce(const std::string& name, SourceRange range) {
    if (name.size() > max_counter_name_length) {
        diag_.error(range, "counter name '" + name.substr(0, 40) + "...' is " +
                               std::to_string(name.size()) + " characters long; at most " +
                               std::to_string(max_counter_name_length) + " are allowed");
        return;
    }
    if (is_nft_keyword(name)) {
        diag_.error(range, "counter name '" + name +
                               "' is an nft keyword and cannot name a "
                               "counter object; rename it (e.g. " +
                               name + "_traffic)");
        return;
    }
    auto [it, inserted] = produced_.emplace(name, range);
    if (!inserted) {
        auto& error = diag_.error(range, "counter name '" + name + "' is produced twice");
        error.notes.push_back({it->second, "'" + name + "' is first produced here"});
    }
}

bool Checker::declare_statement_name(const ast::Token& name) {
    auto [it, inserted] = statement_names_.emplace(name.text, name.range);
    if (!inserted) {
        auto& error =
            diag_.error(name.range, "duplicate counter or classify name '" + name.text + "'");
        error.notes.push_back({it->second, "first declared here"});
    }
    return inserted;
}

void Checker::declare_policy(const ast::PolicyDecl& decl) {
    if (!out_.name.empty()) {
        diag_.error(decl.range, "a file declares one policy; this is the second");
        return;
    }
    if (check_name(decl.name, "policy")) {
        out_.name = decl.name.text;
        out_.table = "acctc_" + decl.name.text;
    } else {
        out_.name = "invalid";
    }
}

void Checker::declare_alias(const ast::AliasDecl& decl) {
    if (!check_name(decl.name,
                    decl.kind == ast::AliasDecl::Kind::interface ? "interface" : "network")) {
        return;
    }
    auto [it, inserted] = alias_sites_.emplace(decl.name.text, decl.name.range);
    if (!inserted) {
        auto& error = diag_.error(decl.name.range, "'" + decl.name.text + "' is already defined");
        error.notes.push_back({it->second, "first defined here"});
        return;
    }
    if (decl.kind == ast::AliasDecl::Kind::interface) {
        std::vector<std::string> devices;
        for (const Item& item : decl.values) {
            if (auto name = device(item)) {
                devices.push_back(*name);
            }
        }
        interfaces_.emplace(decl.name.text, std::move(devices));
        return;
    }
    AddressList network;
    for (const Item& item : decl.values) {
        if (item.kind == Item::Kind::address) {
            address_literal(item, network);
        } else if (auto found = networks_.find(item.text); found != networks_.end()) {
            network.add(found->second);
        } else {
            diag_.error(item.range, "unknown network '" + item.text +
                                        "' (networks must be defined before they are used)");
        }
    }
    networks_.emplace(decl.name.text, std::move(network).merged());
}

void Checker::declare_connmark(const ast::ConnmarkDecl& decl) {
    if (auto mask = number(decl.mask, 0xffffffff, "connmark mask")) {
        if (*mask == 0) {
            diag_.error(decl.mask.range, "connmark mask must leave acctc at least one bit");
            return;
        }
        out_.connmark_mask = static_cast<std::uint32_t>(*mask);
    }
}

// ---------------------------------------------------------------------------------------
// Clauses

ir::Match Checker::read_match(const std::vector<ast::Clause>& clauses, Context context,
                              CounterExtras* extras, ClauseSites& sites, const std::string& self) {
    ir::Match match;
    auto restrict_protocols = [&](const IntervalSet& allowed, SourceRange where) {
        if (match.protocols) {
            const IntervalSet both = match.protocols->intersect(allowed);
            if (both.empty()) {
                diag_.error(where, "this protocol contradicts an earlier protocol clause; nothing "
                                   "could match");
            }
            match.protocols = both;
        } else {
            match.protocols = allowed;
        }
    };
    auto only_in = [&](const ast::Clause& clause, bool allowed, const char* where) {
        if (!allowed) {
            diag_.error(clause.keyword_range, "'" + clause.keyword + "' is not allowed " + where);
        }
        return allowed;
    };
    const bool counter = context == Context::counter;
    const bool branch = context == Context::class_branch;

    for (const ast::Clause& clause : clauses) {
        const std::string& k = clause.keyword;
        if (k == "local" || k == "forward" || k == "passive") {
            if (!only_in(clause, !branch, "in a class; put it in the classify header")) {
                continue;
            }
            match.scopes |= k == "local"     ? ir::scope_local
                            : k == "forward" ? ir::scope_forward
                                             : ir::scope_passive;
            sites.scope = clause.range;
            if (k != "local") {
                (k == "passive" ? sites.passive : sites.forward) = clause.range;
            }
        } else if (k == "in" || k == "out") {
            if (!only_in(clause, !branch, "in a class; put it in the classify header")) {
                continue;
            }
            match.directions |= k == "in" ? ir::dir_in : ir::dir_out;
            sites.direction = clause.range;
            (k == "in" ? sites.in : sites.out) = clause.range;
        } else if (k == "via") {
            if (!only_in(clause, !branch, "in a class; put it in the classify header")) {
                continue;
            }
            sites.via = clause.range;
            for (const Item& item : clause.items) {
                auto found = interfaces_.find(item.text);
                if (item.kind != Item::Kind::word || found == interfaces_.end()) {
                    diag_.error(item.range, "unknown interface '" + item.text +
                                                "'; define it first: interface " + item.text +
                                                " = eth0");
                    continue;
                }
                match.via.insert(match.via.end(), found->second.begin(), found->second.end());
            }
        } else if (k == "include") {
            match.include_loopback = true;
        } else if (k == "owner") {
            if (sites.owner) {
                auto& error = diag_.error(clause.range, "owner is given twice");
                error.notes.push_back({*sites.owner, "first given here"});
                continue;
            }
            sites.owner = clause.range;
            if (clause.qualifier == "cgroup") {
                match.cgroup = cgroup_path(clause.items.front());
                continue;
            }
            const bool user = clause.qualifier == "user";
            std::vector<Interval> ids;
            for (const Item& item : clause.items) {
                std::optional<std::uint64_t> id;
                if (item.kind == Item::Kind::number) {
                    id = number(item, 0xfffffffe, user ? "user id" : "group id");
                } else {
                    id = user ? hosts_.user_id(item.text) : hosts_.group_id(item.text);
                    if (!id) {
                        diag_.error(item.range, std::string("unknown ") +
                                                    (user ? "user" : "group") + " '" + item.text +
                                                    "' on the host this policy is compiled for");
                    }
                }
                if (id) {
                    ids.push_back({*id, *id});
                }
            }
            (user ? match.uids : match.gids) = IntervalSet::of(std::move(ids));
        } else if (k == "protocol") {
            IntervalSet protocols;
            for (const Item& item : clause.items) {
                if (auto p = protocol(item)) {
                    protocols.add(*p, *p);
                }
            }
            if (!protocols.empty()) {
                restrict_protocols(protocols, clause.range);
            }
        } else if (k == "ports") {
            std::vector<std::uint8_t> protocols;
            IntervalSet protocol_set;
            for (const auto& token : clause.protocols) {
                const std::uint8_t p = *protocol_number(token.text);
                protocols.push_back(p);
                protocol_set.add(p, p);
            }
            sites.ports = clause.range;
            if (auto ports = port_items(clause.items, protocols)) {
                const ir::Side side = clause.qualifier == "sport"   ? ir::Side::source
                                      : clause.qualifier == "dport" ? ir::Side::destination
                                                                    : ir::Side::either;
                match.ports.push_back({protocol_set, side, *ports});
            }
            restrict_protocols(protocol_set, clause.range);
        } else if (k == "icmp") {
            const bool v6 = clause.qualifier == "icmpv6";
            if (match.icmp) {
                diag_.error(clause.range,
                            "only one icmp clause per match; list the types together");
                continue;
            }
            sites.icmp = clause.range;
            ir::IcmpMatch icmp{v6, {}};
            for (const Item& item : clause.items) {
                if (item.kind == Item::Kind::number) {
                    if (auto t = number(item, 255, "ICMP type")) {
                        icmp.types.add(*t, *t);
                    }
                } else if (auto t = icmp_type_number(item.text, v6)) {
                    icmp.types.add(*t, *t);
                } else {
                    diag_.error(item.range,
                                "unknown " + std::string(v6 ? "ICMPv6" : "ICMP") + " type '" +
                                    item.text + "'" +
                                    (icmp_type_number(item.text, !v6)
                                         ? std::string(v6 ? "; it is an ICMP (IPv4) type"
                                                          : "; it is an ICMPv6 type")
                                         : std::string()));
                }
            }
            match.icmp = icmp;
            const std::uint8_t p = v6 ? proto_icmpv6 : proto_icmp;
            restrict_protocols(IntervalSet::single(p), clause.range);
        } else if (k == "address") {
            ir::AddressMatch address;
            const std::string& side = clause.qualifier; // from, to or address
            address.side = side == "from" ? ir::Side::source
                           : side == "to" ? ir::Side::destination
                                          : ir::Side::either;
            AddressList values;
            bool ok = true;
            for (const Item& item : clause.items) {
                if (item.kind == Item::Kind::peers) {
                    sites.peers_ref = item.range;
                    if (clause.items.size() != 1) {
                        diag_.error(item.range, "'peers of' must stand alone in its address list; "
                                                "write a second clause for other addresses");
                        ok = false;
                    } else if (item.text == self) {
                        diag_.error(item.range, "a counter cannot match on its own peers");
                        ok = false;
                    } else if (auto found = counter_index_.find(item.text);
                               found == counter_index_.end()) {
                        diag_.error(item.range, "unknown counter '" + item.text +
                                                    "' in 'peers of' (peers are the addresses a "
                                                    "counter's packets went to or came from)");
                        ok = false;
                    } else {
                        address.peers_of = item.text;
                    }
                } else {
                    ok = add_network(item, values) && ok;
                }
            }
            if (ok) {
                NetworkAlias merged = std::move(values).merged();
                address.v4 = std::move(merged.v4);
                address.v6 = std::move(merged.v6);
                match.addresses.push_back(std::move(address));
            }
        } else if (k == "fragment") {
            match.fragment = true;
            sites.fragment = clause.range;
        } else if (k == "new") {
            match.new_connection = true;
        } else if (k == "length") {
            IntervalSet lengths;
            for (const Item& item : clause.items) {
                if (item.kind == Item::Kind::word) {
                    diag_.error(item.range,
                                "a packet length is a number of bytes, not '" + item.text + "'");
                    continue;
                }
                auto bound = [&](const std::string& text, SourceRange where) {
                    return number(Item{Item::Kind::number, text, {}, {}, where}, 65535,
                                  "packet length");
                };
                const SourceRange lower{item.range.begin, item.range.begin + item.text.size()};
                const auto lo =
                    bound(item.text, item.kind == Item::Kind::range ? lower : item.range);
                std::optional<std::uint64_t> hi = lo;
                if (item.kind == Item::Kind::range) {
                    hi = item.upper.empty() ? std::optional<std::uint64_t>(65535)
                                            : bound(item.upper, {lower.end + 2, item.range.end});
                }
                if (lo && hi && *lo > *hi) {
                    diag_.error(item.range, "reversed length range: " + std::to_string(*lo) +
                                                " is above " + std::to_string(*hi));
                } else if (lo && hi) {
                    lengths.add(*lo, *hi);
                }
            }
            if (match.length && match.length->intersect(lengths).empty()) {
                diag_.error(clause.range, "this length contradicts an earlier length clause; "
                                          "nothing could match");
            }
            match.length = match.length ? match.length->intersect(lengths) : lengths;
        } else if (k == "follow" || k == "listen" || k == "peers") {
            if (!only_in(clause, counter,
                         "here; only a counter follows connections, listens or "
                         "keeps peers")) {
                continue;
            }
            if (k == "follow") {
                extras->follow = true;
                extras->follow_range = clause.range;
                sites.follow = clause.range;
            } else if (k == "listen") {
                sites.listen = clause.range;
                for (const Item& item : clause.items) {
                    const std::uint8_t p = *protocol_number(item.protocol);
                    const SourceRange port_range{item.range.begin + item.protocol.size() + 1,
                                                 item.range.end};
                    Item port_item = item;
                    port_item.range = port_range;
                    if (auto ports = port_items({port_item}, {p})) {
                        extras->listen.push_back({p, *ports});
                    }
                }
            } else if (auto seconds = duration(clause.items.front())) {
                extras->peers_timeout = seconds;
            }
        } else if (k == "split") {
            const bool allowed =
                counter || (context == Context::classify_header && clause.qualifier == "direction");
            if (!only_in(clause, allowed, "here; a classify header may only split direction")) {
                continue;
            }
            ir::SplitSpec split{clause.qualifier == "protocol"    ? ir::Split::protocol
                                : clause.qualifier == "direction" ? ir::Split::direction
                                : clause.qualifier == "host"      ? ir::Split::host
                                : clause.qualifier == "opener"    ? ir::Split::opener
                                                                  : ir::Split::type,
                                {}};
            if (split.kind == ir::Split::host && extras != nullptr) {
                extras->host = read_host_split(
                    clause, diag_, [&](const Item& item, IntervalSet& v4, IntervalSet& v6) {
                        return network_item(item, v4, v6);
                    });
            }
            if (extras != nullptr) {
                for (std::size_t i = 0; i < extras->splits.size(); ++i) {
                    if (extras->splits[i].kind == split.kind) {
                        auto& error = diag_.error(clause.range,
                                                  "split " + clause.qualifier + " is given twice");
                        error.notes.push_back({extras->split_ranges[i], "first given here"});
                    }
                }
            }
            if (split.kind == ir::Split::protocol) {
                for (const Item& item : clause.items) {
                    auto p = protocol(item);
                    if (p && skipped_ipv6_headers().contains(*p)) {
                        // A split is one lookup of the l4proto field, which never holds them.
                        diag_.error(item.range,
                                    "split protocol cannot split by the IPv6 extension header " +
                                        std::to_string(*p) +
                                        ": nft and ip6tables see the upper-layer protocol "
                                        "past it; count it with its own 'protocol " +
                                        std::to_string(*p) + "' counter");
                    } else if (p) {
                        split.values.push_back(*p);
                    }
                }
            }
            if (split.kind == ir::Split::direction) {
                sites.split_direction = clause.range;
            }
            if (split.kind == ir::Split::type) {
                sites.split_type = clause.range;
            }
            if (split.kind == ir::Split::opener) {
                sites.split_opener = clause.range;
            }
            if (extras != nullptr) {
                extras->splits.push_back(split);
                extras->split_ranges.push_back(clause.range);
            }
        } else if (k == "accept" || k == "drop") {
            if (!only_in(clause, counter,
                         "here; verdicts belong in a counter or stand alone as "
                         "'drop ...' / 'accept ...'")) {
                continue;
            }
            if (extras->verdict != ir::Verdict::none) {
                diag_.error(clause.range, "a counter has at most one verdict");
            }
            extras->verdict = k == "accept" ? ir::Verdict::accept : ir::Verdict::drop;
        }
    }
    return match;
}

// Scope and direction defaults, and the combinations the kernel cannot honour.
void Checker::apply_defaults(ir::Match& match, const CounterExtras& extras,
                             const ClauseSites& sites, SourceRange where, Context context) {
    const bool explicit_scope = match.scopes != 0;
    const bool split_direction = sites.split_direction.has_value();
    const bool owner = match.has_owner();
    const bool follow = extras.follow || !extras.listen.empty();
    if (!explicit_scope) {
        // Owners and listening sockets exist only on this host.
        if (owner || !extras.listen.empty()) {
            match.scopes = ir::scope_local;
        } else if ((match.directions != 0 || split_direction || sites.split_opener) &&
                   match.via.empty()) {
            // "in" and "out" (and who opened) without an interface are relative to this host.
            match.scopes = ir::scope_local;
        } else {
            match.scopes = ir::scope_local | ir::scope_forward;
        }
    }
    if (match.directions == 0) {
        match.directions = (owner && !follow) ? ir::dir_out : (ir::dir_in | ir::dir_out);
        if (match.scopes == ir::scope_passive) {
            match.directions = ir::dir_in;
        }
    }

    if (owner) {
        if (match.scopes & ir::scope_forward) {
            auto& error = diag_.error(*sites.owner, "owner matches only packets of local sockets; "
                                                    "forwarded traffic has no owner");
            error.notes.push_back({sites.forward.value_or(where), "forward scope given here"});
        }
        if (match.scopes & ir::scope_passive) {
            auto& error = diag_.error(*sites.owner, "owner cannot apply to passive collection");
            error.notes.push_back({sites.passive.value_or(where), "passive given here"});
        }
        if (!follow && (match.directions & ir::dir_in) && !(match.scopes & ir::scope_passive)) {
            auto& error = diag_.error(*sites.owner,
                                      "owner matches only outgoing packets (the kernel knows the "
                                      "socket on output); add 'follow connection' to count the "
                                      "incoming half");
            error.notes.push_back({sites.in.value_or(where), "incoming traffic asked for here"});
        }
        if (!follow && split_direction) {
            auto& error = diag_.error(*sites.split_direction,
                                      "split direction with owner needs 'follow connection': "
                                      "without it only outgoing packets can match");
            error.notes.push_back({*sites.owner, "owner given here"});
        }
    }
    if (match.scopes & ir::scope_passive) {
        if (match.scopes != ir::scope_passive) {
            diag_.error(*sites.passive,
                        "passive collection cannot be combined with local or forward");
        } else if (match.via.empty()) {
            diag_.error(*sites.passive, "passive collection needs 'via INTERFACE': it counts what "
                                        "arrives on that device");
        }
        for (const auto& device : match.via) {
            if (device.back() == '*') {
                diag_.error(*sites.via,
                            "passive collection needs exact device names, not '" + device + "'");
            }
        }
        if (match.directions & ir::dir_out) {
            diag_.error(sites.out.value_or(where), "passive collection sees only arriving packets");
        }
        if (follow || match.new_connection) {
            diag_.error(sites.follow.value_or(sites.listen.value_or(where)),
                        "passive collection runs before connection tracking; it cannot follow "
                        "connections or match 'new'");
        }
        if (extras.verdict != ir::Verdict::none || context == Context::verdict) {
            diag_.error(where, "passive collection only counts; it takes no accept or drop");
        }
    }
    if ((match.scopes & ir::scope_forward) && match.via.empty()) {
        if (sites.forward && sites.direction) {
            diag_.error(*sites.direction, "in forward scope, in and out are relative to an "
                                          "interface; add 'via INTERFACE'");
        }
        if (sites.forward && split_direction) {
            diag_.error(*sites.split_direction, "split direction of forwarded traffic needs "
                                                "'via INTERFACE'");
        }
    }
    if (match.fragment) {
        if (!match.ports.empty()) {
            auto& error =
                diag_.error(*sites.fragment, "non-first fragments carry no ports; a "
                                             "fragment clause cannot be combined with ports");
            error.notes.push_back({*sites.ports, "ports given here"});
        }
        if (match.icmp && !match.icmp->types.empty()) {
            auto& error =
                diag_.error(*sites.fragment, "non-first fragments carry no ICMP header; "
                                             "drop the ICMP types or the fragment clause");
            error.notes.push_back({*sites.icmp, "ICMP types given here"});
        }
    }
    // Address families: literal sets restrict, and all clauses must share one.
    bool v4 = true;
    bool v6 = true;
    for (const auto& address : match.addresses) {
        if (address.peers_of.empty()) {
            v4 = v4 && !address.v4.empty();
            v6 = v6 && !address.v6.empty();
        }
    }
    if (match.icmp) {
        (match.icmp->v6 ? v4 : v6) = false;
    }
    if (!v4 && !v6) {
        diag_.error(where, "these addresses and protocols share no address family (IPv4 with "
                           "IPv6); nothing could match");
    }
}

// Someone counting a service's traffic by its owner expects both directions; without
// following the connection a download counts only its acknowledgements. Said when the
// direction was left to the default and the statement is otherwise sound.
void Checker::warn_outgoing_only(const ir::Match& match, bool follow, const ClauseSites& sites,
                                 Context context, std::size_t errors_before) {
    if (!match.has_owner() || follow || sites.direction || sites.split_direction ||
        match.scopes != ir::scope_local || diag_.error_count() != errors_before) {
        return;
    }
    diag_.warning(*sites.owner,
                  context == Context::counter
                      ? "owner without 'follow connection' counts only outgoing packets (the "
                        "kernel knows the socket on output only): what this host receives is "
                        "not counted; add 'follow connection' to count both directions, or "
                        "'out' to count only what is sent"
                      : "owner counts only outgoing packets (the kernel knows the socket on "
                        "output only) and a classify cannot follow connections: add 'out' to "
                        "say so, or count both directions with a counter that has 'follow "
                        "connection'");
}

// ---------------------------------------------------------------------------------------
// Statements

void Checker::check_counter(const ast::CounterDecl& decl, bool duplicate) {
    ir::Counter counter;
    counter.name = decl.name.text;
    counter.origin = file_.origin(decl.range.begin);
    counter.range = decl.name.range;
    const std::size_t errors_before = diag_.error_count();
    CounterExtras extras;
    ClauseSites sites;
    counter.match = read_match(decl.clauses, Context::counter, &extras, sites, decl.name.text);
    apply_defaults(counter.match, extras, sites, decl.name.range, Context::counter);
    counter.follow = extras.follow || !extras.listen.empty();
    warn_outgoing_only(counter.match, counter.follow, sites, Context::counter, errors_before);
    counter.listen = std::move(extras.listen);
    counter.splits = std::move(extras.splits);
    counter.host = std::move(extras.host);
    counter.verdict = extras.verdict;
    if (extras.peers_timeout) {
        counter.peers_timeout_seconds = *extras.peers_timeout;
    }
    for (std::size_t i = 0; i < counter.splits.size(); ++i) {
        auto& split = counter.splits[i];
        if (split.kind == ir::Split::type) {
            if (!counter.match.icmp || counter.match.icmp->types.empty()) {
                diag_.error(extras.split_ranges[i], "split type needs an icmp or icmpv6 clause "
                                                    "listing the types to split");
                continue;
            }
            for (const auto& part : counter.match.icmp->types.parts()) {
                for (u128 t = part.lo; t <= part.hi; ++t) {
                    split.values.push_back(static_cast<std::uint8_t>(t));
                }
            }
        }
        if (split.kind == ir::Split::direction &&
            counter.match.directions != (ir::dir_in | ir::dir_out)) {
            diag_.warning(extras.split_ranges[i], "split direction on traffic of one direction "
                                                  "produces a single counter");
        }
    }
    for (std::size_t i = 0; i < counter.splits.size(); ++i) {
        if (counter.splits[i].kind == ir::Split::host && counter.host) {
            check_host_split(counter, extras.split_ranges[i], diag_);
        }
        if (counter.splits[i].kind == ir::Split::opener) {
            check_opener_split(counter, extras.split_ranges[i], diag_);
        }
    }
    if (counter.splits_by(ir::Split::protocol) && counter.splits_by(ir::Split::type)) {
        diag_.error(decl.name.range, "split protocol and split type cannot be combined; ICMP types "
                                     "already imply the protocol");
    }
    if (counter.follow) {
        out_.uses_conntrack = true;
        const unsigned available = static_cast<unsigned>(__builtin_popcount(out_.connmark_mask));
        const unsigned used = following_counters_++;
        if (used >= available) {
            diag_.error(extras.follow_range.end > 0 ? extras.follow_range : decl.name.range,
                        "more counters follow connections than the connmark mask has bits (" +
                            std::to_string(available) + "); widen it with 'connmark mask'");
        } else {
            // The (used+1)-th lowest set bit of the mask.
            std::uint32_t mask = out_.connmark_mask;
            for (unsigned i = 0; i < used; ++i) {
                mask &= mask - 1;
            }
            counter.mark_bit = mask & (~mask + 1);
        }
    }
    if (counter.match.new_connection) {
        out_.uses_conntrack = true;
    }
    if (duplicate) {
        return; // reported already; its clauses were still checked above
    }
    for (const auto& name : all_counter_names(counter)) {
        produce(name, decl.name.range);
    }
    if (counter.verdict != ir::Verdict::none) {
        out_.verdicts.push_back(
            {counter.verdict, counter.origin, out_.counters.size(), {}, counter.range});
    }
    out_.order.push_back({false, out_.counters.size()});
    out_.counters.push_back(std::move(counter));
}

void Checker::check_classify(const ast::ClassifyDecl& decl) {
    ir::Classify classify;
    classify.name = decl.name.text;
    classify.origin = file_.origin(decl.range.begin);
    classify.range = decl.name.range;
    const std::size_t errors_before = diag_.error_count();
    CounterExtras extras;
    ClauseSites sites;
    classify.scope = read_match(decl.header, Context::classify_header, &extras, sites, "");
    classify.split_direction = sites.split_direction.has_value();
    apply_defaults(classify.scope, extras, sites, decl.name.range, Context::classify_header);
    warn_outgoing_only(classify.scope, false, sites, Context::classify_header, errors_before);
    std::set<std::string> labels;
    for (const auto& branch : decl.branches) {
        if (!check_name(branch.label, "class")) {
            continue;
        }
        if (!labels.insert(branch.label.text).second) {
            diag_.error(branch.label.range, "class '" + branch.label.text + "' appears twice");
            continue;
        }
        ir::Class cls;
        cls.label = branch.label.text;
        cls.counter = classify.name + "_" + branch.label.text;
        cls.origin = file_.origin(branch.range.begin);
        cls.range = branch.label.range;
        ClauseSites branch_sites;
        cls.match = read_match(branch.clauses, Context::class_branch, nullptr, branch_sites, "");
        if (cls.match.has_owner() &&
            (classify.scope.scopes & ~ir::scope_local || classify.scope.directions & ir::dir_in)) {
            diag_.error(*branch_sites.owner, "owner matches only outgoing local packets; give the "
                                             "classify header 'local out'");
        }
        if (branch.otherwise) {
            if (classify.otherwise) {
                diag_.error(branch.label.range, "only one otherwise per classify");
            }
            if (&branch != &decl.branches.back()) {
                diag_.warning(branch.label.range, "otherwise takes what no class matched; the "
                                                  "classes after it are still tried first");
            }
            classify.otherwise = std::move(cls);
        } else {
            classify.classes.push_back(std::move(cls));
        }
    }
    if (classify.classes.empty()) {
        diag_.error(decl.name.range, "classify '" + classify.name +
                                         "' has no classes; give at least one 'label: clauses'");
    }
    auto produce_class = [&](const ir::Class& cls) {
        if (classify.split_direction) {
            produce(cls.counter + "_in", cls.range);
            produce(cls.counter + "_out", cls.range);
        } else {
            produce(cls.counter, cls.range);
        }
    };
    for (const auto& cls : classify.classes) {
        produce_class(cls);
    }
    if (classify.otherwise) {
        produce_class(*classify.otherwise);
    }
    out_.order.push_back({true, out_.classifies.size()});
    out_.classifies.push_back(std::move(classify));
}

void Checker::check_verdict(const ast::VerdictDecl& decl) {
    ir::VerdictRule rule;
    rule.verdict = decl.action.text == "accept" ? ir::Verdict::accept : ir::Verdict::drop;
    rule.origin = file_.origin(decl.range.begin);
    rule.range = decl.range;
    ClauseSites sites;
    CounterExtras extras;
    rule.match = read_match(decl.clauses, Context::verdict, nullptr, sites, "");
    apply_defaults(rule.match, extras, sites, decl.action.range, Context::verdict);
    if (rule.match.new_connection) {
        out_.uses_conntrack = true;
    }
    out_.verdicts.push_back(std::move(rule));
}

// ---------------------------------------------------------------------------------------
// Passes: each reads the whole policy; run() lists them in order.

void Checker::require_policy_header(const ast::Policy& policy) {
    if (policy.statements.empty() ||
        !std::holds_alternative<ast::PolicyDecl>(policy.statements.front())) {
        if (!diag_.has_errors()) {
            diag_.error({0, 0}, "a policy file starts with 'policy NAME'");
        }
        out_.name = "invalid";
    }
}

void Checker::index_counter_names(const ast::Policy& policy) {
    for (const auto& statement : policy.statements) {
        if (const auto* counter = std::get_if<ast::CounterDecl>(&statement)) {
            counter_index_.emplace(counter->name.text, counter_index_.size());
        }
    }
}

// Declarations and statements in source order (aliases before their use).
void Checker::check_statements(const ast::Policy& policy) {
    for (const auto& statement : policy.statements) {
        if (diag_.too_many()) {
            break;
        }
        std::visit(
            [&](const auto& decl) {
                using T = std::decay_t<decltype(decl)>;
                if constexpr (std::is_same_v<T, ast::PolicyDecl>) {
                    declare_policy(decl);
                } else if constexpr (std::is_same_v<T, ast::AliasDecl>) {
                    declare_alias(decl);
                } else if constexpr (std::is_same_v<T, ast::ConnmarkDecl>) {
                    declare_connmark(decl);
                } else if constexpr (std::is_same_v<T, ast::CounterDecl>) {
                    if (check_name(decl.name, "counter")) {
                        check_counter(decl, !declare_statement_name(decl.name));
                    }
                } else if constexpr (std::is_same_v<T, ast::ClassifyDecl>) {
                    if (check_name(decl.name, "classify") && declare_statement_name(decl.name)) {
                        check_classify(decl);
                    }
                } else {
                    check_verdict(decl);
                }
            },
            statement);
    }
}

void Checker::mark_peer_references(const ast::Policy&) {
    std::set<std::string, std::less<>> referenced;
    auto collect = [&](const ir::Match& match) {
        for (const auto& address : match.addresses) {
            if (!address.peers_of.empty()) {
                referenced.insert(address.peers_of);
            }
        }
    };
    for (const auto& counter : out_.counters) {
        collect(counter.match);
    }
    for (const auto& verdict : out_.verdicts) {
        collect(verdict.match);
    }
    for (const auto& classify : out_.classifies) {
        collect(classify.scope);
        for (const auto& member : classify.classes) {
            collect(member.match);
        }
        if (classify.otherwise) {
            collect(classify.otherwise->match);
        }
    }
    for (auto& counter : out_.counters) {
        counter.peers_referenced = referenced.count(counter.name) != 0;
    }
}

// What the kernel shows a hook differs from the wire (fragments, reassembly) or from one
// family: said once the statements are checked.
void Checker::warn_wire(const ast::Policy&) {
    warn_wire_differences(out_, diag_);
    warn_single_family_pings(out_, diag_);
}

ir::Policy Checker::run(const ast::Policy& policy) {
    for (const Pass& pass : passes) {
        (this->*pass.run)(policy);
    }
    return std::move(out_);
}

} // namespace

ir::Policy check_policy(const SourceFile& file, const ast::Policy& policy,
                        const HostDatabase& hosts, Diagnostics& diagnostics) {
    return Checker(file, hosts, diagnostics).run(policy);
}

} // namespace acctc
