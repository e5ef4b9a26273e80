// The TCX program that corrects merged packets (runtime/src/bpf_wire_program.cpp) run by the
// kernel on synthetic packets (BPF_PROG_TEST_RUN, which takes a __sk_buff's gso_segs and
// gso_size): what a merged TCP packet adds to its counter's slot and to the slot of a quota
// that sums the counter, that nothing is added for a packet the hook saw as the wire carried
// it, and what the program costs per packet (printed: docs/performance.md, "Merged packets
// corrected in BPF"). Nothing is attached: no device, no traffic.
#include "acctc/runtime/bpf.hpp"
#include "bpf_wire_program.hpp"

#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <iostream>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace acctc::runtime {
namespace {

constexpr std::uint32_t slots = 4;

struct Maps {
    UniqueFd counts = bpf::create_map(
        {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(WireCounts), 2 * slots, 0, "acctc_test"});
    UniqueFd generation = bpf::create_map({BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "acctc_test_gen"});
    UniqueFd quota_counts = bpf::create_map(
        {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(WireCounts), slots, 0, "acctc_test_q"});

    WireProgramMaps program() const {
        return {counts.get(), generation.get(), slots, quota_counts.get()};
    }
};

// The sum over CPUs of one slot.
WireCounts read_slot(int map, std::uint32_t key) {
    const auto elements = bpf::read_map(
        map, 4, static_cast<std::uint32_t>(sizeof(WireCounts) * bpf::possible_cpus()));
    WireCounts sum{0, 0};
    for (std::size_t i = 0; i < elements.count; ++i) {
        std::uint32_t at = 0;
        std::memcpy(&at, elements.keys.data() + i * 4, 4);
        if (at != key) {
            continue;
        }
        for (std::size_t cpu = 0; cpu < bpf::possible_cpus(); ++cpu) {
            WireCounts one{};
            std::memcpy(&one,
                        elements.values.data() + (i * bpf::possible_cpus() + cpu) * sizeof one,
                        sizeof one);
            sum.packets += one.packets;
            sum.bytes += one.bytes;
        }
    }
    return sum;
}

// An Ethernet frame of IPv4 and TCP to `port`, the TCP header with 12 bytes of options.
std::vector<std::uint8_t> tcp_frame(std::uint16_t port) {
    std::vector<std::uint8_t> frame(14 + 20 + 32 + 1000, 0);
    frame[12] = 0x08; // EtherType IPv4
    std::uint8_t* ip = frame.data() + 14;
    ip[0] = 0x45;
    const std::uint16_t length = htons(static_cast<std::uint16_t>(frame.size() - 14));
    std::memcpy(ip + 2, &length, 2);
    ip[8] = 64;
    ip[9] = IPPROTO_TCP;
    const std::array<std::uint8_t, 8> addresses{198, 18, 0, 1, 198, 18, 0, 2};
    std::memcpy(ip + 12, addresses.data(), addresses.size());
    std::uint8_t* tcp = ip + 20;
    const std::uint16_t sport = htons(40000);
    const std::uint16_t dport = htons(port);
    std::memcpy(tcp, &sport, 2);
    std::memcpy(tcp + 2, &dport, 2);
    tcp[12] = 8 << 4; // 32 bytes
    return frame;
}

// Runs the program `repeat` times on the frame as a packet of `segments` GSO segments; the
// kernel's average time per run in nanoseconds.
std::uint32_t run(int program, std::vector<std::uint8_t> frame, std::uint32_t segments,
                  std::uint32_t repeat) {
    __sk_buff context{};
    context.gso_segs = segments;
    context.gso_size = segments > 1 ? 1448 : 0;
    bpf_attr attr{};
    attr.test.prog_fd = static_cast<std::uint32_t>(program);
    attr.test.data_in = reinterpret_cast<std::uint64_t>(frame.data());
    attr.test.data_size_in = static_cast<std::uint32_t>(frame.size());
    attr.test.ctx_in = reinterpret_cast<std::uint64_t>(&context);
    attr.test.ctx_size_in = sizeof context;
    attr.test.repeat = repeat;
    if (::syscall(SYS_bpf, BPF_PROG_TEST_RUN, &attr, sizeof attr) != 0) {
        throw std::runtime_error(std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno));
    }
    EXPECT_EQ(static_cast<std::int32_t>(attr.test.retval), -1); // TCX_NEXT: never in the way
    return attr.test.duration;
}

// Counter 0: TCP of IPv4 (a quota sums it); counter 1: TCP port 443.
WireHook two_counters() {
    WireHook hook{"wan0", false, {}};
    hook.rules.push_back({0,
                          WireScope::any,
                          {{WireField::family, false, {{0, 4, 0, 4}}},
                           {WireField::l4proto, false, {{0, IPPROTO_TCP, 0, IPPROTO_TCP}}}},
                          {},
                          "test:1"});
    hook.rules.push_back(
        {1, WireScope::any, {{WireField::dport, false, {{0, 443, 0, 443}}}}, {}, "test:2"});
    return hook;
}

TEST(BpfWireProgram, AMergedPacketAddsItsMissingSegmentsToCountersAndQuotas) {
    const Maps maps;
    const std::vector<WireSlots> where{{1, {3}}, {2, {}}};
    const UniqueFd program = bpf::load_sched_cls(
        wire_program(two_counters(), where, maps.program(), {}), "acctc_wire_test");
    run(program.get(), tcp_frame(80), 10, 1);
    // 9 segments the hook did not see, each with 20 + 32 bytes of headers.
    const WireCounts counter = read_slot(maps.counts.get(), 1);
    EXPECT_EQ(counter.packets, 9U);
    EXPECT_EQ(counter.bytes, 9U * 52);
    const WireCounts quota = read_slot(maps.quota_counts.get(), 3);
    EXPECT_EQ(quota.packets, 9U);
    EXPECT_EQ(quota.bytes, 9U * 52);
    EXPECT_EQ(read_slot(maps.counts.get(), 2).packets, 0U); // port 80 is not 443

    run(program.get(), tcp_frame(443), 1, 1); // as on the wire: nothing to add
    EXPECT_EQ(read_slot(maps.counts.get(), 2).packets, 0U);
    run(program.get(), tcp_frame(443), 3, 1);
    EXPECT_EQ(read_slot(maps.counts.get(), 2).bytes, 2U * 52);
    EXPECT_EQ(read_slot(maps.quota_counts.get(), 3).bytes, 11U * 52);
}

// What a packet costs the program: one that is not merged (most of them) and a merged one
// matched by both rules, against a program that returns at once.
TEST(BpfWireProgram, CostPerPacket) {
    const Maps maps;
    const std::vector<WireSlots> where{{1, {3}}, {2, {}}};
    const UniqueFd program = bpf::load_sched_cls(
        wire_program(two_counters(), where, maps.program(), {}), "acctc_wire_test");
    const UniqueFd empty =
        bpf::load_sched_cls({bpf::mov_imm(0, -1), bpf::exit_program()}, "acctc_wire_none");
    constexpr std::uint32_t repeat = 500'000;
    std::array<std::uint32_t, 3> best{~0U, ~0U, ~0U};
    for (int round = 0; round < 5; ++round) { // interleaved, the best of each
        best[0] = std::min(best[0], run(empty.get(), tcp_frame(443), 1, repeat));
        best[1] = std::min(best[1], run(program.get(), tcp_frame(443), 1, repeat));
        best[2] = std::min(best[2], run(program.get(), tcp_frame(443), 10, repeat));
    }
    std::cout << "ns per packet: empty program " << best[0] << ", not merged " << best[1]
              << ", merged (2 rules, one quota) " << best[2] << "\n";
    EXPECT_LT(best[1], best[2]); // the fast path is the short one
}

} // namespace
} // namespace acctc::runtime
