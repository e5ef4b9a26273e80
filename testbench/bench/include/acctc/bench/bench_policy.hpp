// The policies a throughput run compares: an acctc `classify` of N classes of one kind, the
// naive translation a person would write by hand (one rule per class in a linear chain,
// first match returns), and the flows that hit classes spread across the whole key space.
#pragma once

#include "acctc/bench/udp_generator.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::bench {

enum class ClassKind {
    ports,     // c<i>: udp dport 1000+i
    networks,  // c<i>: from 198.19.x.y/30, the i-th /30 of 198.19.0.0/16
    protoport, // c<i>: tcp or udp (alternating) dport 1000+i/2: a concatenated key
    gids,      // c<i>: owner group 5000+i, on the output hook of the sending namespace
    hosts,     // `split host source`: one counter per source address, N hosts of 198.19.0.0/16
    mixed,     // the first half of the classes as ports' c<i>, the second half as networks' c<i>
               // (counted from the half): a classification of two runs, two lookups
};
std::string to_string(ClassKind kind);
std::optional<ClassKind> parse_class_kind(std::string_view text);
// Largest number of classes a kind can express with distinct keys.
std::size_t max_classes(ClassKind kind);

// Where the traffic goes and which interface the classification is attached to.
struct BenchAddressing {
    std::string wan_interface;        // the router's ingress interface
    testbench::IpAddress source;      // the sender's own address
    testbench::IpAddress destination; // routed through the router, dropped past its egress
    testbench::IpAddress source6;     // the same for IPv6 traffic
    testbench::IpAddress destination6;
};

struct BenchPolicy {
    ClassKind kind = ClassKind::ports;
    std::size_t classes = 0;
    std::string policy_name;   // table acctc_<policy_name>
    std::string source;        // acctc policy text
    std::string naive_policy;  // table acctc_<naive_policy> holds the naive ruleset
    std::string naive_ruleset; // nft text, loadable with nft -f; empty: no naive variant
    std::string classify_name; // counters are <classify_name>_c<i> and <classify_name>_rest
    std::string rest_counter;  // what no class takes: <classify_name>_rest, or hosts' overflow
    bool output_hook = false;  // rules sit on the sender's output hook instead of forward
    std::vector<std::size_t> hit_classes; // one per flow
    std::vector<GeneratorFlow> flows;
};

// `flows` distinct classes are hit (fewer when there are fewer classes), evenly spread. For
// hosts every one of the N hosts is a flow of its own, whatever `flows` says.
// The bench topology's addressing, for policies loaded where no traffic flows (timings).
BenchAddressing offline_addressing();

// ipv6: the traffic (and the networks and hosts it comes from) is IPv6: networks are /126s of
// 2001:db8:19::/96 and hosts 2001:db8:19::<i> instead of 198.19.0.0/16.
BenchPolicy make_bench_policy(ClassKind kind, std::size_t classes,
                              const BenchAddressing& addressing, std::size_t flows,
                              bool ipv6 = false);

// Largest number of classes of a policy that is only compiled, never loaded where traffic flows
// (the compile timings): networks then go on past the data path's /30s (see below).
std::size_t max_compile_classes(ClassKind kind);
// The policy text of make_bench_policy() with the offline addressing; networks past
// max_classes() are one /32 per class of 198.18.0.0/15 (IPv6: one /128 of 2001:db8:19::/96),
// the compiler benchmark's shape, which no traffic of the bench's topology could tell apart.
std::string make_compile_source(ClassKind kind, std::size_t classes, bool ipv6);

} // namespace acctc::bench
