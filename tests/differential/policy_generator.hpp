// A deterministic generator of random policies covering every construct of docs/language.md (quotas included),
// for the differential tests: whatever acctc compiles must load with the kernel tools.
#pragma once

#include "acctc/compile.hpp"

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::differential {

// The constructs of docs/language.md a generated policy may use; the tests check that the
// policies that compile cover every one of them.
enum class Construct {
    interface_alias,
    interface_wildcard,
    network_alias,
    network_of_alias,
    ipv4_value,
    ipv6_value,
    prefix_zero,
    connmark_mask,
    counter,
    classify,
    otherwise,
    verdict_statement,
    scope_local,
    scope_forward,
    scope_passive,
    direction,
    via,
    include_loopback,
    owner_user,
    owner_group,
    owner_cgroup,
    ports,
    port_range,
    port_service_name,
    protocol,
    bare_protocol,
    icmp,
    icmpv6,
    from,
    to,
    address,
    peers_of,
    peers_timeout,
    fragment,
    new_state,
    listen,
    follow,
    split_protocol,
    split_direction,
    split_type,
    split_opener,
    verdict,
    quota,
};

// One name per Construct, in declaration order: the single table the tests print from.
inline constexpr std::array<std::string_view, 43> construct_names{"interface alias",
                                                                  "interface wildcard",
                                                                  "network alias",
                                                                  "network of alias",
                                                                  "IPv4 value",
                                                                  "IPv6 value",
                                                                  "prefix /0",
                                                                  "connmark mask",
                                                                  "counter",
                                                                  "classify",
                                                                  "otherwise",
                                                                  "accept/drop statement",
                                                                  "local",
                                                                  "forward",
                                                                  "passive",
                                                                  "in/out",
                                                                  "via",
                                                                  "include loopback",
                                                                  "owner user",
                                                                  "owner group",
                                                                  "owner cgroup",
                                                                  "ports",
                                                                  "port range",
                                                                  "port service name",
                                                                  "protocol",
                                                                  "bare protocol",
                                                                  "icmp",
                                                                  "icmpv6",
                                                                  "from",
                                                                  "to",
                                                                  "address",
                                                                  "peers of",
                                                                  "peers timeout",
                                                                  "fragment",
                                                                  "new",
                                                                  "listen",
                                                                  "follow connection",
                                                                  "split protocol",
                                                                  "split direction",
                                                                  "split type",
                                                                  "split opener",
                                                                  "verdict clause",
                                                                  "quota"};

inline std::string_view name_of(Construct construct) {
    return construct_names[static_cast<std::size_t>(construct)];
}

struct GeneratedPolicy {
    std::string name; // the policy's name, unique within one generated set: g0000, g0001, ...
    std::string text;
    std::set<Construct> constructs;
};

// The devices generated policies name (the kernel tests create them; `tun*` is a wildcard) and
// the cgroup the generated `owner cgroup` clauses use (relative to the cgroup2 root).
inline constexpr std::array<std::string_view, 7> generated_devices{
    "eth0", "veth1", "br-lan", "eth0.100", "veth@if3", "eth+", "tun*"};
inline constexpr std::string_view generated_cgroup = "acctc-differential/app.service";

// `count` policies from `seed`: the same arguments give the same policies on every platform
// (only std::mt19937's output is used, never a standard distribution).
std::vector<GeneratedPolicy> generate_policies(std::uint32_t seed, std::size_t count);

// Compiles a generated policy as "generated/NAME.acct" with the users, groups and services of
// specs/etc, so the result never depends on the host.
CompileResult compile_generated(const GeneratedPolicy& policy, Target target);

// The fixed set the tests use.
inline constexpr std::uint32_t default_seed = 20261127;
inline constexpr std::size_t default_count = 600;

} // namespace acctc::differential
