#include "policy_generator.hpp"

#include <algorithm>
#include <random>
#include <sstream>

namespace acctc::differential {
namespace {

// std::mt19937's sequence is fixed by the standard; the distributions are not, so the few
// draws needed are made here.
class Random {
  public:
    explicit Random(std::uint32_t seed) : engine_(seed) {}
    std::size_t below(std::size_t n) { return engine_() % n; }
    bool chance(unsigned percent) { return below(100) < percent; }
    template <typename Container>
    const auto& pick(const Container& items) {
        return items[below(items.size())];
    }

  private:
    std::mt19937 engine_;
};

// Value pools. Every value is valid on its own; combinations may still be errors, which is
// fine: the property is about what compiles. Addresses stay in the test ranges (and /0).
constexpr std::array<std::string_view, 6> ipv4_values{"198.18.0.1",      "198.18.0.0/24",
                                                      "198.18.4.0/22",   "198.19.255.255/32",
                                                      "198.18.128.0/17", "0.0.0.0/0"};
constexpr std::array<std::string_view, 6> ipv6_values{"2001:db8::1",     "2001:db8:1::/64",
                                                      "2001:db8::/32",   "2001:db8:ff::/48",
                                                      "2001:db8::2/128", "::/0"};
constexpr std::array<std::string_view, 5> port_protocols{"tcp", "udp", "sctp", "udplite", "dccp"};
constexpr std::array<std::string_view, 3> port_sides{"sport", "dport", "port"};
constexpr std::array<std::string_view, 9> single_ports{"22",  "53",  "80",     "443",  "8080",
                                                       "ssh", "ftp", "domain", "21212"};
constexpr std::array<std::string_view, 4> port_ranges{"1024..", "20..21", "ftp-data..ftp",
                                                      "6000..6010"};
constexpr std::array<std::string_view, 5> numeric_ports{"22", "53", "80", "443", "21212"};
constexpr std::array<std::string_view, 3> numeric_port_ranges{"1024..", "20..21", "6000..6010"};
constexpr std::array<std::string_view, 15> protocols{
    "tcp",  "udp",  "gre",    "esp",        "ah",        "41",  "icmp",     "icmpv6",
    "sctp", "igmp", "hopopt", "ipv6-route", "ipv6-frag", "253", "ipv6-opts"};
// split protocol takes no IPv6 extension header (one lookup of the l4proto field).
constexpr std::array<std::string_view, 8> split_protocols{"tcp", "udp", "gre",    "esp",
                                                          "ah",  "253", "icmpv6", "sctp"};
constexpr std::array<std::string_view, 4> bare_protocols{"tcp", "udp", "icmp", "icmpv6"};
constexpr std::array<std::string_view, 6> icmp_types{
    "echo-request", "echo-reply", "destination-unreachable", "time-exceeded", "8", "3"};
constexpr std::array<std::string_view, 5> icmpv6_types{
    "echo-request", "echo-reply", "packet-too-big", "nd-neighbor-solicit", "128"};
constexpr std::array<std::string_view, 5> users{"alice", "bob", "1001", "root", "1000"};
constexpr std::array<std::string_view, 3> groups{"skype", "voip", "2000"};
constexpr std::array<std::string_view, 4> durations{"90s", "30m", "2h", "1d12h"};
constexpr std::array<std::string_view, 3> connmark_masks{"0x00ff0000", "0x0000ff00", "0xff"};
constexpr std::array<std::string_view, 8> class_labels{"web",  "dns",  "mail", "ssh",
                                                       "voip", "bulk", "lan",  "pings"};

// The key a classify's classes mostly differ in: one key for all classes is what turns the
// classification into one map lookup (docs/language.md), mixed keys give return rules.
enum class ClassKey { ports, networks, owner, protocol, icmp, mixed };

class PolicyWriter {
  public:
    PolicyWriter(Random& random, GeneratedPolicy& policy) : random_(random), policy_(policy) {}

    void write() {
        out_ << "policy " << policy_.name << "\n";
        for (std::size_t i = 1 + random_.below(2); i > 0; --i) {
            interface();
        }
        for (std::size_t i = random_.below(3); i > 0; --i) {
            network();
        }
        if (random_.chance(10)) {
            use(Construct::connmark_mask);
            out_ << "connmark mask " << random_.pick(connmark_masks) << "\n";
        }
        for (std::size_t i = 1 + random_.below(4); i > 0; --i) {
            const std::size_t kind = random_.below(10);
            if (kind < 6) {
                counter();
            } else if (kind < 9) {
                classify();
            } else {
                verdict_statement();
            }
        }
        // Rarely: a quota on a split host counter is nft only, and the other policies keep
        // feeding the iptables half of the tests.
        if (random_.chance(12) && (!counters_.empty() || classifies_ > 0)) {
            quota();
        }
        policy_.text = out_.str();
    }

  private:
    void use(Construct construct) { policy_.constructs.insert(construct); }

    // Adds a fixed clause with the given chance.
    void maybe(std::vector<std::string>& clauses, unsigned percent, Construct construct,
               std::string_view clause) {
        if (random_.chance(percent)) {
            use(construct);
            clauses.emplace_back(clause);
        }
    }

    void interface() {
        const std::string name = "if" + std::to_string(interfaces_.size());
        use(Construct::interface_alias);
        out_ << "interface " << name << " = ";
        for (std::size_t i = 1 + random_.below(2); i > 0; --i) {
            const std::string_view device = random_.pick(generated_devices);
            if (device.ends_with('*')) {
                // Not on its own too often: passive collection needs exact device names.
                use(Construct::interface_wildcard);
            }
            out_ << device << (i > 1 ? ", " : "");
        }
        out_ << "\n";
        interfaces_.push_back(name);
    }

    std::string address_value() {
        if (random_.chance(50)) {
            use(Construct::ipv4_value);
            const std::string_view value = random_.pick(ipv4_values);
            if (value.ends_with("/0")) {
                use(Construct::prefix_zero);
            }
            return std::string(value);
        }
        use(Construct::ipv6_value);
        const std::string_view value = random_.pick(ipv6_values);
        if (value.ends_with("/0")) {
            use(Construct::prefix_zero);
        }
        return std::string(value);
    }

    void network() {
        const std::string name = "net" + std::to_string(networks_.size());
        use(Construct::network_alias);
        out_ << "network " << name << " = ";
        for (std::size_t i = 1 + random_.below(3); i > 0; --i) {
            if (!networks_.empty() && random_.chance(20)) {
                use(Construct::network_of_alias);
                out_ << random_.pick(networks_);
            } else {
                out_ << address_value();
            }
            out_ << (i > 1 ? ", " : "");
        }
        out_ << "\n";
        networks_.push_back(name);
    }

    // "a, b, c" of 1..max items drawn by `item`.
    template <typename Item>
    std::string list(std::size_t max, Item item) {
        std::string text;
        for (std::size_t i = 1 + random_.below(max); i > 0; --i) {
            text += item();
            text += i > 1 ? ", " : "";
        }
        return text;
    }

    std::string via() {
        use(Construct::via);
        return "via " + list(2, [&] { return random_.pick(interfaces_); });
    }

    std::string ports() {
        use(Construct::ports);
        std::string text = list(2, [&] { return std::string(random_.pick(port_protocols)); });
        // specs/etc/services names tcp ports only.
        const bool named = text == "tcp";
        if (random_.chance(85)) {
            text += " " + std::string(random_.pick(port_sides)) + " " + list(3, [&] {
                        if (random_.chance(30)) {
                            use(Construct::port_range);
                            return std::string(named ? random_.pick(port_ranges)
                                                     : random_.pick(numeric_port_ranges));
                        }
                        if (!named) {
                            return std::string(random_.pick(numeric_ports));
                        }
                        const std::string_view port = random_.pick(single_ports);
                        if (!std::isdigit(static_cast<unsigned char>(port.front()))) {
                            use(Construct::port_service_name);
                        }
                        return std::string(port);
                    });
        }
        return text;
    }

    std::string protocol_list() {
        return list(3, [&] { return std::string(random_.pick(protocols)); });
    }

    std::string icmp(bool v6) {
        use(v6 ? Construct::icmpv6 : Construct::icmp);
        std::string text = v6 ? "icmpv6" : "icmp";
        if (random_.chance(80)) {
            text += random_.chance(50) ? " type " : " ";
            text += list(3, [&] {
                return std::string(v6 ? random_.pick(icmpv6_types) : random_.pick(icmp_types));
            });
        }
        return text;
    }

    std::string addresses() {
        static constexpr std::array<std::string_view, 3> sides{"from", "to", "address"};
        static constexpr std::array<Construct, 3> side_constructs{Construct::from, Construct::to,
                                                                  Construct::address};
        const std::size_t side = random_.below(sides.size());
        use(side_constructs[side]);
        std::string text = std::string(sides[side]) + " ";
        if (!counters_.empty() && random_.chance(10)) {
            use(Construct::peers_of);
            return text + "peers of " + random_.pick(counters_);
        }
        return text + list(3, [&] {
                   if (!networks_.empty() && random_.chance(40)) {
                       return random_.pick(networks_);
                   }
                   return address_value();
               });
    }

    std::string owner() {
        switch (random_.below(3)) {
        case 0:
            use(Construct::owner_user);
            return "owner user " + list(2, [&] { return std::string(random_.pick(users)); });
        case 1:
            use(Construct::owner_group);
            return "owner group " + list(2, [&] { return std::string(random_.pick(groups)); });
        default:
            use(Construct::owner_cgroup);
            return "owner cgroup \"" + std::string(generated_cgroup) + "\"";
        }
    }

    // What a packet is: ports, protocols or ICMP types (at most one kind, mostly), and where
    // it comes from or goes to.
    void match_clauses(std::vector<std::string>& clauses, bool& has_icmp) {
        const std::size_t kind = random_.below(10);
        if (kind < 3) {
            clauses.push_back(ports());
        } else if (kind < 5) {
            use(Construct::protocol);
            clauses.push_back("protocol " + protocol_list());
        } else if (kind < 6) {
            use(Construct::bare_protocol);
            clauses.emplace_back(random_.pick(bare_protocols));
        } else if (kind < 8) {
            has_icmp = true;
            clauses.push_back(icmp(random_.chance(40)));
        }
        if (random_.chance(40)) {
            clauses.push_back(addresses());
        }
    }

    void counter() {
        const std::string name = "c" + std::to_string(counters_.size());
        use(Construct::counter);
        std::vector<std::string> clauses;
        const std::size_t scope = random_.below(20);
        const bool passive = scope >= 17;
        const bool forward = scope >= 13 && !passive;
        if (passive) {
            use(Construct::scope_passive);
            clauses.emplace_back("passive");
        } else if (forward) {
            use(Construct::scope_forward);
            clauses.emplace_back("forward");
        } else if (scope >= 8) {
            use(Construct::scope_local);
            clauses.emplace_back("local");
        }
        bool directed = false;
        bool split_direction = false;
        if (random_.chance(passive ? 10 : 45)) {
            directed = true;
            if (random_.chance(75)) {
                use(Construct::direction);
                clauses.emplace_back(random_.chance(50) ? "in" : "out");
            } else {
                use(Construct::split_direction);
                split_direction = true;
            }
        }
        // Passive collection, and a direction in forward scope, are relative to `via`.
        if (random_.chance(passive || (forward && directed) ? 95 : 35)) {
            clauses.push_back(via());
        }
        maybe(clauses, 5, Construct::include_loopback, "include loopback");
        if (!passive && !forward && random_.chance(15)) {
            clauses.push_back(owner());
        }
        bool has_icmp = false;
        match_clauses(clauses, has_icmp);
        maybe(clauses, 5, Construct::fragment, "fragment");
        maybe(clauses, passive ? 0 : 8, Construct::new_state, "new");
        if (!passive && random_.chance(8)) {
            use(Construct::listen);
            clauses.push_back("listen " + list(2, [&] {
                                  return std::string(random_.chance(50) ? "tcp " : "udp ") +
                                         std::string(random_.pick(numeric_ports));
                              }));
        }
        maybe(clauses, passive ? 0 : 12, Construct::follow, "follow connection");
        if (random_.chance(10)) {
            use(Construct::peers_timeout);
            clauses.push_back("peers timeout " + std::string(random_.pick(durations)));
        }
        if (random_.chance(10)) {
            use(Construct::split_protocol);
            clauses.push_back("split protocol " +
                              list(3, [&] { return std::string(random_.pick(split_protocols)); }));
        } else if (has_icmp && random_.chance(30)) {
            use(Construct::split_type);
            clauses.emplace_back("split type");
        }
        if (split_direction) {
            clauses.emplace_back("split direction");
        }
        // Who opened the connection: mostly on followed counters (elsewhere an error).
        const bool followed =
            std::any_of(clauses.begin(), clauses.end(), [](const std::string& clause) {
                return clause == "follow connection" || clause.starts_with("listen ");
            });
        if (!passive && random_.chance(followed ? 35 : 2)) {
            use(Construct::split_opener);
            clauses.emplace_back("split opener");
        }
        if (!passive && random_.chance(8)) {
            use(Construct::verdict);
            clauses.emplace_back(random_.chance(50) ? "accept" : "drop");
        }
        out_ << "counter " << name << " { " << joined(clauses) << " }\n";
        counters_.push_back(name);
    }

    // Clauses on one line: a classify's header and classes and a verdict statement end at the
    // line's end or a ';'.
    static std::string on_one_line(const std::vector<std::string>& clauses) {
        std::string text;
        for (const std::string& clause : clauses) {
            text += (text.empty() ? "" : " ") + clause;
        }
        return text;
    }

    // A counter body's clauses separated by "; ", by newlines, or several on a line.
    std::string joined(const std::vector<std::string>& clauses) {
        std::string text;
        for (std::size_t i = 0; i < clauses.size(); ++i) {
            if (i > 0) {
                const std::size_t layout = random_.below(3);
                text += layout == 0 ? "; " : layout == 1 ? "\n    " : " ";
            }
            text += clauses[i];
        }
        return text;
    }

    std::string class_clauses(ClassKey key) {
        switch (key) {
        case ClassKey::ports:
            return ports();
        case ClassKey::networks:
            return addresses();
        case ClassKey::owner:
            return owner();
        case ClassKey::protocol:
            use(Construct::protocol);
            return "protocol " + protocol_list();
        case ClassKey::icmp:
            return icmp(false);
        case ClassKey::mixed:
            break;
        }
        std::vector<std::string> clauses;
        bool has_icmp = false;
        match_clauses(clauses, has_icmp);
        return on_one_line(clauses);
    }

    void classify() {
        const std::string name = "k" + std::to_string(classifies_++);
        use(Construct::classify);
        std::vector<std::string> header;
        const std::size_t scope = random_.below(4);
        if (scope == 1) {
            use(Construct::scope_local);
            header.emplace_back(random_.chance(50) ? "local in" : "local out");
            use(Construct::direction);
        } else if (scope == 2) {
            use(Construct::scope_forward);
            header.emplace_back("forward");
            if (random_.chance(50)) {
                header.push_back(via());
                use(Construct::direction);
                header.emplace_back(random_.chance(50) ? "in" : "out");
            }
        } else if (scope == 3) {
            use(Construct::scope_passive);
            header.emplace_back("passive");
            header.push_back(via());
        }
        if (scope != 3 && random_.chance(15)) {
            use(Construct::split_direction);
            header.emplace_back("split direction");
        }
        static constexpr std::array<ClassKey, 6> keys{ClassKey::ports, ClassKey::networks,
                                                      ClassKey::owner, ClassKey::protocol,
                                                      ClassKey::icmp,  ClassKey::mixed};
        ClassKey key = random_.pick(keys);
        if (key == ClassKey::owner && scope != 1) {
            key = ClassKey::ports;
        }
        out_ << "classify " << name << " " << on_one_line(header)
             << (header.empty() ? "{\n" : " {\n");
        const std::size_t classes = 1 + random_.below(4);
        for (std::size_t i = 0; i < classes; ++i) {
            out_ << "    " << class_labels[i] << ": " << class_clauses(key) << "\n";
        }
        if (random_.chance(60)) {
            use(Construct::otherwise);
            out_ << "    otherwise: rest\n";
        }
        out_ << "}\n";
    }

    void quota() {
        use(Construct::quota);
        std::vector<std::string> families = counters_;
        for (std::size_t i = 0; i < classifies_; ++i) {
            families.push_back("k" + std::to_string(i));
        }
        static constexpr std::array<std::string_view, 4> budgets{"1 kB", "1.5 GiB", "50 GB",
                                                                 "9223372036854775807 B"};
        static constexpr std::array<std::string_view, 4> periods{"hour", "day", "month",
                                                                 "month from day 28"};
        out_ << "quota q { on " << random_.pick(families) << "; " << random_.pick(budgets)
             << " per " << random_.pick(periods);
        if (random_.chance(50)) {
            out_ << "; warn at " << 1 + random_.below(99) << " %";
        }
        out_ << (random_.chance(50) ? "; drop }\n" : " }\n");
    }

    void verdict_statement() {
        use(Construct::verdict_statement);
        std::vector<std::string> clauses;
        if (random_.chance(60)) {
            use(Construct::scope_local);
            clauses.emplace_back("local in");
            use(Construct::direction);
        }
        if (random_.chance(50)) {
            clauses.push_back(via());
        }
        bool has_icmp = false;
        match_clauses(clauses, has_icmp);
        maybe(clauses, 30, Construct::new_state, "new");
        if (clauses.empty()) {
            clauses.emplace_back("local in");
        }
        out_ << (random_.chance(50) ? "accept " : "drop ") << on_one_line(clauses) << "\n";
    }

    Random& random_;
    GeneratedPolicy& policy_;
    std::ostringstream out_;
    std::vector<std::string> interfaces_;
    std::vector<std::string> networks_;
    std::vector<std::string> counters_;
    std::size_t classifies_ = 0;
};

} // namespace

std::vector<GeneratedPolicy> generate_policies(std::uint32_t seed, std::size_t count) {
    Random random(seed);
    std::vector<GeneratedPolicy> out(count);
    for (std::size_t i = 0; i < count; ++i) {
        std::string number = std::to_string(i);
        out[i].name = "g" + std::string(4 - std::min<std::size_t>(4, number.size()), '0') + number;
        PolicyWriter(random, out[i]).write();
    }
    return out;
}

CompileResult compile_generated(const GeneratedPolicy& policy, Target target) {
    CompileOptions options;
    options.target = target;
    options.etc_dir = std::filesystem::path(ACCTC_SOURCE_DIR) / "specs/etc";
    return compile_source("generated/" + policy.name + ".acct", policy.text, options);
}

} // namespace acctc::differential
