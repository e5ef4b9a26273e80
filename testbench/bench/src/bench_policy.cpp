#include "acctc/bench/bench_policy.hpp"

#include <cstdio>
#include <stdexcept>
#include <sys/socket.h>

namespace acctc::bench {
namespace {

constexpr std::uint16_t first_port = 1000;
constexpr gid_t first_gid = 5000;
constexpr const char* classify_name = "svc";

std::string classify_policy_name(ClassKind kind) {
    return "bench_" + to_string(kind);
}

// Owner groups are the sender's: its output hook, not the router's forward hook.
bool on_output_hook(ClassKind kind) {
    return kind == ClassKind::gids;
}

// The offset-th address of 198.19.0.0/16, or of 2001:db8:19::/96.
testbench::IpAddress bench_address(std::size_t offset, bool ipv6) {
    testbench::IpAddress address;
    address.family = ipv6 ? AF_INET6 : AF_INET;
    const std::size_t last = ipv6 ? 15 : 3;
    if (ipv6) {
        address.bytes = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x19};
    } else {
        address.bytes[0] = 198;
        address.bytes[1] = 19;
    }
    address.bytes[last - 1] = static_cast<std::uint8_t>(offset >> 8);
    address.bytes[last] = static_cast<std::uint8_t>(offset & 0xff);
    return address;
}

// One /30 (IPv6: /126) per class.
testbench::IpAddress network_address(std::size_t index, bool ipv6) {
    return bench_address(index * 4, ipv6);
}

std::string network_prefix(std::size_t index, bool ipv6) {
    return network_address(index, ipv6).to_string() + (ipv6 ? "/126" : "/30");
}

bool is_udp_class(ClassKind kind, std::size_t index) {
    return kind != ClassKind::protoport || index % 2 == 1;
}

std::uint16_t class_port(ClassKind kind, std::size_t index) {
    return static_cast<std::uint16_t>(first_port +
                                      (kind == ClassKind::protoport ? index / 2 : index));
}

// The i-th of `classes` classes of a kind as a class of a kind of one key: a mixed
// classification's first half are ports, its second half networks.
struct OneKeyClass {
    ClassKind kind;
    std::size_t index;
};
OneKeyClass one_key_class(ClassKind kind, std::size_t classes, std::size_t i) {
    if (kind != ClassKind::mixed) {
        return {kind, i};
    }
    return i < classes / 2 ? OneKeyClass{ClassKind::ports, i}
                           : OneKeyClass{ClassKind::networks, i - classes / 2};
}

// The class's match in acctc's language and in nft's.
std::string acctc_match(ClassKind kind, std::size_t index, bool ipv6) {
    switch (kind) {
    case ClassKind::ports:
    case ClassKind::protoport:
        return std::string(is_udp_class(kind, index) ? "udp" : "tcp") + " dport " +
               std::to_string(class_port(kind, index));
    case ClassKind::networks:
        return "from " + network_prefix(index, ipv6);
    case ClassKind::gids:
        return "owner group " + std::to_string(first_gid + index);
    case ClassKind::hosts:
    case ClassKind::mixed: // one_key_class() first
        break;
    }
    return {};
}

std::string nft_match(ClassKind kind, std::size_t index, bool ipv6) {
    switch (kind) {
    case ClassKind::ports:
    case ClassKind::protoport:
        return acctc_match(kind, index, ipv6);
    case ClassKind::networks:
        return std::string(ipv6 ? "ip6" : "ip") + " saddr " + network_prefix(index, ipv6);
    case ClassKind::gids:
        return "meta skgid " + std::to_string(first_gid + index);
    case ClassKind::hosts:
    case ClassKind::mixed: // one_key_class() first
        break;
    }
    return {};
}

// The bench's classify of `classes` classes of one kind, `match(i)` the i-th class's match.
template <typename Match>
std::string classify_source(ClassKind kind, std::size_t classes, const std::string& wan,
                            Match match) {
    const std::string hook = on_output_hook(kind) ? "local out" : "forward in via wan";
    std::string source = "policy " + classify_policy_name(kind) + "\ninterface wan = " + wan +
                         "\nclassify " + classify_name + " " + hook + " {\n";
    for (std::size_t i = 0; i < classes; ++i) {
        source += "    c" + std::to_string(i) + ": " + match(i) + "\n";
    }
    return source + "    otherwise: rest\n}\n";
}

// The i-th host address of 198.18.0.0/15 (IPv6: of 2001:db8:19::/96) as a prefix of its own.
std::string host_prefix(std::size_t index, bool ipv6) {
    char text[64];
    if (ipv6) {
        std::snprintf(text, sizeof text, "2001:db8:19::%zx:%zx/128", index >> 16, index & 0xffff);
    } else {
        std::snprintf(text, sizeof text, "198.%zu.%zu.%zu/32", 18 + (index >> 16),
                      (index >> 8) & 0xff, index & 0xff);
    }
    return text;
}

// N active hosts behind the router's wan side, each counted in its own set element. The set is
// sized twice as large so that none of them can land in the overflow counter.
BenchPolicy make_hosts_policy(std::size_t hosts, const BenchAddressing& addressing, bool ipv6) {
    BenchPolicy policy;
    policy.kind = ClassKind::hosts;
    policy.classes = hosts;
    policy.policy_name = "bench_hosts";
    policy.classify_name = "hosts";
    policy.rest_counter = "hosts_overflow";
    policy.source = "policy " + policy.policy_name +
                    "\ninterface wan = " + addressing.wan_interface +
                    "\ncounter hosts { forward in via wan; split host source size " +
                    std::to_string(2 * max_classes(ClassKind::hosts)) + " }\n";
    for (std::size_t i = 0; i < hosts; ++i) {
        GeneratorFlow flow;
        flow.source = bench_address(i, ipv6);
        flow.destination = ipv6 ? addressing.destination6 : addressing.destination;
        flow.source_port = 40000;
        flow.destination_port = 9; // discard
        policy.hit_classes.push_back(i);
        policy.flows.push_back(flow);
    }
    return policy;
}

// Classes hit by the traffic: evenly spread, only the UDP ones for protocol+port.
std::vector<std::size_t> spread(ClassKind kind, std::size_t classes, std::size_t flows) {
    const std::size_t candidates = kind == ClassKind::protoport ? classes / 2 : classes;
    const std::size_t count = std::min(flows, candidates);
    std::vector<std::size_t> hit;
    for (std::size_t j = 0; j < count; ++j) {
        const std::size_t k = (2 * j + 1) * candidates / (2 * count);
        hit.push_back(kind == ClassKind::protoport ? 2 * k + 1 : k);
    }
    return hit;
}

} // namespace

std::string to_string(ClassKind kind) {
    switch (kind) {
    case ClassKind::ports:
        return "ports";
    case ClassKind::networks:
        return "networks";
    case ClassKind::protoport:
        return "protoport";
    case ClassKind::gids:
        return "gids";
    case ClassKind::hosts:
        return "hosts";
    case ClassKind::mixed:
        return "mixed";
    }
    return "?";
}

std::optional<ClassKind> parse_class_kind(std::string_view text) {
    for (auto kind : {ClassKind::ports, ClassKind::networks, ClassKind::protoport, ClassKind::gids,
                      ClassKind::hosts, ClassKind::mixed}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

std::size_t max_classes(ClassKind kind) {
    switch (kind) {
    case ClassKind::ports:
        return 65535 - first_port;
    case ClassKind::networks:
        return 65536 / 4;
    case ClassKind::protoport:
        return 2 * (65535 - first_port);
    case ClassKind::gids:
        return 1'000'000;
    case ClassKind::hosts:
        return 65536; // a /16
    case ClassKind::mixed:
        return 2 * max_classes(ClassKind::networks);
    }
    return 0;
}

BenchAddressing offline_addressing() {
    const auto address = [](const char* text) { return *testbench::IpAddress::parse(text); };
    return {"wan0", address("198.18.0.2"), address("198.18.3.1"), address("2001:db8::2"),
            address("2001:db8:3::1")};
}

BenchPolicy make_bench_policy(ClassKind kind, std::size_t classes,
                              const BenchAddressing& addressing, std::size_t flows, bool ipv6) {
    if (classes < 2 || classes > max_classes(kind) || flows == 0) {
        throw std::invalid_argument(to_string(kind) + ": 2.." + std::to_string(max_classes(kind)) +
                                    " classes");
    }
    if (kind == ClassKind::hosts) {
        return make_hosts_policy(classes, addressing, ipv6);
    }
    BenchPolicy policy;
    policy.kind = kind;
    policy.classes = classes;
    policy.policy_name = classify_policy_name(kind);
    policy.naive_policy = "bench_naive";
    policy.classify_name = classify_name;
    policy.rest_counter = "svc_rest";
    policy.output_hook = on_output_hook(kind);

    policy.source = classify_source(kind, classes, addressing.wan_interface, [&](std::size_t i) {
        const auto one = one_key_class(kind, classes, i);
        return acctc_match(one.kind, one.index, ipv6);
    });

    // The hand-written equivalent: same counters, same hook, same first-match semantics.
    const std::string table = "acctc_" + policy.naive_policy;
    const std::string prefix = policy.classify_name + "_";
    std::string& naive = policy.naive_ruleset;
    naive =
        "table inet " + table + "\ndelete table inet " + table + "\ntable inet " + table + " {\n";
    for (std::size_t i = 0; i < classes; ++i) {
        naive += "\tcounter " + prefix + "c" + std::to_string(i) + " {\n\t}\n";
    }
    naive += "\tcounter " + prefix + "rest {\n\t}\n";
    naive += policy.output_hook
                 ? "\tchain output {\n\t\ttype filter hook output priority filter - 10; policy "
                   "accept;\n\t\toifname != \"lo\" jump naive\n\t}\n"
                 : "\tchain forward {\n\t\ttype filter hook forward priority filter - 10; policy "
                   "accept;\n\t\tiifname \"" +
                       addressing.wan_interface + "\" jump naive\n\t}\n";
    naive += "\tchain naive {\n";
    for (std::size_t i = 0; i < classes; ++i) {
        const auto one = one_key_class(kind, classes, i);
        naive += "\t\t" + nft_match(one.kind, one.index, ipv6) + " counter name \"" + prefix + "c" +
                 std::to_string(i) + "\" return\n";
    }
    naive += "\t\tcounter name \"" + prefix + "rest\"\n\t}\n}\n";

    policy.hit_classes = spread(kind, classes, flows);
    for (std::size_t j = 0; j < policy.hit_classes.size(); ++j) {
        const std::size_t index = policy.hit_classes[j];
        GeneratorFlow flow;
        flow.source = ipv6 ? addressing.source6 : addressing.source;
        flow.destination = ipv6 ? addressing.destination6 : addressing.destination;
        flow.source_port = static_cast<std::uint16_t>(40000 + j);
        flow.destination_port = 9; // discard: below every port class
        const auto one = one_key_class(kind, classes, index);
        switch (one.kind) {
        case ClassKind::ports:
        case ClassKind::protoport:
            flow.destination_port = class_port(one.kind, one.index);
            break;
        case ClassKind::networks:
            flow.source = network_address(one.index, ipv6);
            flow.source.bytes[ipv6 ? 15 : 3] |= 1; // a host inside the /30 (/126)
            break;
        case ClassKind::gids:
            flow.gid = static_cast<gid_t>(first_gid + one.index);
            break;
        case ClassKind::hosts:
        case ClassKind::mixed:
            break;
        }
        policy.flows.push_back(flow);
    }
    return policy;
}

std::size_t max_compile_classes(ClassKind kind) {
    return kind == ClassKind::networks ? std::size_t{1} << 17 : max_classes(kind);
}

std::string make_compile_source(ClassKind kind, std::size_t classes, bool ipv6) {
    const auto addressing = offline_addressing();
    if (kind != ClassKind::networks || classes <= max_classes(kind)) {
        return make_bench_policy(kind, classes, addressing, 1, ipv6).source;
    }
    if (classes > max_compile_classes(kind)) {
        throw std::invalid_argument("networks: 2.." + std::to_string(max_compile_classes(kind)) +
                                    " classes");
    }
    return classify_source(kind, classes, addressing.wan_interface,
                           [&](std::size_t i) { return "from " + host_prefix(i, ipv6); });
}

} // namespace acctc::bench
