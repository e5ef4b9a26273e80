// Values of clause items: numbers, ports, protocols, addresses, durations, interface names
// and cgroup paths, each range-checked and reported at its item.
#include "checker.hpp"
#include "well_known.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>

namespace acctc {

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
    const std::string_view host = std::string_view(text).substr(0, slash);
    const bool v6 = host.find(':') != std::string_view::npos;
    unsigned char bytes[16] = {};
    // inet_pton wants a terminated string: the host part copied to the stack (an IPv6 one is
    // longer than a std::string holds without allocating, once per class of 100,000); longer
    // than any address, it is not one.
    char terminated[INET6_ADDRSTRLEN + 1] = {};
    const bool fits = host.size() < sizeof terminated;
    if (fits) {
        host.copy(terminated, host.size());
    }
    if (!fits || inet_pton(v6 ? AF_INET6 : AF_INET, terminated, bytes) != 1) {
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

} // namespace acctc
