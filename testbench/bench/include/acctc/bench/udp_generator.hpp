// Bulk UDP generator for throughput runs: prebuilt IPv4 or IPv6 UDP packets sent through raw
// sockets with sendmmsg from a process inside a bench namespace, round-robin over several flows,
// until a fixed packet count or a time limit is reached, whichever comes first.
#pragma once

#include "acctc/testbench/ip_address.hpp"
#include "acctc/testbench/netns.hpp"

#include <chrono>
#include <cstdint>
#include <sys/types.h>
#include <vector>

namespace acctc::bench {

struct GeneratorFlow {
    testbench::IpAddress source; // any test address: raw sockets write the header themselves
    testbench::IpAddress destination;
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    gid_t gid = 0; // the socket's owner group, which `meta skgid` sees on the output hook
};

struct GeneratorSpec {
    std::vector<GeneratorFlow> flows; // IPv4 or IPv6, source and destination of one family
    unsigned packet_length = 95; // IPv4 total length: 20 + 8 + 67 bytes of payload (IPv6: + 20)
    std::uint64_t max_packets = 1'000'000;
    std::chrono::milliseconds max_time{300};
    unsigned batch = 64;        // datagrams per sendmmsg call
    int cpu = -1;               // pin the generator to this CPU; -1: let the scheduler place it
    std::size_t first_flow = 0; // where the round-robin over a group's flows starts
};

struct GeneratorResult {
    std::uint64_t sent = 0; // datagrams the kernel accepted
    double seconds = 0;     // from the first to the return of the last sendmmsg
    double cpu_seconds = 0; // of that, the time the generator (and its softirq) ran on a CPU
};

// Runs the generator in a child process in `netns` (as root, so raw sockets and per-flow
// groups work) and waits for its report. Throws when the child fails.
GeneratorResult run_udp_generator(const testbench::NamedNetns& netns, const GeneratorSpec& spec);

} // namespace acctc::bench
