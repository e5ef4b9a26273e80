// The bpf(2) wrappers (acctc/runtime/bpf.hpp) against the kernel: maps written and read in
// batches across the batch size, read-and-delete, a program the verifier refuses with its log,
// and a program on a TCX link counting real packets. Each in a namespace of its own.
#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <gtest/gtest.h>
#include <net/if.h>
#include <set>
#include <string>
#include <sys/socket.h>

namespace acctc::runtime::bpf {
namespace {

std::uint32_t u32_at(const std::vector<std::uint8_t>& bytes, std::size_t index) {
    std::uint32_t value = 0;
    std::memcpy(&value, bytes.data() + index * sizeof value, sizeof value);
    return value;
}

std::uint64_t u64_at(const std::vector<std::uint8_t>& bytes, std::size_t index) {
    std::uint64_t value = 0;
    std::memcpy(&value, bytes.data() + index * sizeof value, sizeof value);
    return value;
}

TEST(Bpf, HashMapReadInBatchesThenReadAndDeleted) {
    // More elements than one batch (8,192) takes.
    constexpr std::uint32_t count = 20000;
    const auto map = create_map({BPF_MAP_TYPE_HASH, 4, 8, count, 0, "acctc_test"});
    std::vector<std::uint8_t> keys(count * 4);
    std::vector<std::uint8_t> values(count * 8);
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t value = 3ULL * i;
        std::memcpy(keys.data() + i * 4, &i, 4);
        std::memcpy(values.data() + i * 8, &value, 8);
    }
    update_map(map.get(), keys, values, count);
    for (const bool and_delete : {false, true}) {
        const auto read = read_map(map.get(), 4, 8, and_delete);
        ASSERT_EQ(read.count, count);
        std::set<std::uint32_t> seen;
        for (std::size_t i = 0; i < read.count; ++i) {
            EXPECT_EQ(u64_at(read.values, i), 3ULL * u32_at(read.keys, i));
            seen.insert(u32_at(read.keys, i));
        }
        EXPECT_EQ(seen.size(), count);
    }
    EXPECT_EQ(read_map(map.get(), 4, 8).count, 0U);
}

TEST(Bpf, ARefusedProgramCarriesTheVerifiersLog) {
    // r0 is never set before the exit.
    Assembler program;
    program.emit(exit_program());
    try {
        load_sched_cls(program.finish(), "acctc_bad");
        FAIL() << "the verifier took a program that returns nothing";
    } catch (const RuntimeError& error) {
        EXPECT_NE(std::string(error.what()).find("R0 !read_ok"), std::string::npos)
            << error.what();
    }
}

TEST(Bpf, AProgramOnATcxLinkCountsPacketsUntilTheLinkCloses) {
    testing::TestNamespace netns;
    // Slot 0 of an array: lock add 1 for each packet.
    const auto counter = create_map({BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, "acctc_test"});
    Assembler program;
    program.emit(store_imm(BPF_W, 10, -4, 0));
    program.load_map(1, counter.get());
    program.emit(mov_reg(2, 10));
    program.emit(add_imm(2, -4));
    program.emit(call(BPF_FUNC_map_lookup_elem));
    program.jump(jump_imm(BPF_JEQ, 0, 0), "out");
    program.emit(mov_imm(1, 1));
    program.emit(atomic_add64(0, 0, 1));
    program.label("out");
    program.emit(mov_imm(0, -1)); // TCX_NEXT
    program.emit(exit_program());
    const auto loaded = load_sched_cls(program.finish(), "acctc_test");
    UniqueFd link;
    UniqueFd receiver; // a socket on the port, so no ICMP port-unreachable comes back on lo
    {
        NetnsScope inside(netns.name());
        link = attach_tcx(loaded.get(), static_cast<int>(::if_nametoindex("lo")));
        receiver = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_port = htons(9);
        at.sin_addr.s_addr = htonl(0xC6120001); // 198.18.0.1
        ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
    }
    testing::UdpTraffic traffic(netns.name(), 9);
    traffic.send(5);
    const auto count = [&] { return u64_at(read_map(counter.get(), 4, 8).values, 0); };
    EXPECT_EQ(count(), 5U); // each datagram arrives once on lo
    link.reset();
    traffic.send(3);
    EXPECT_EQ(count(), 5U);
}

} // namespace
} // namespace acctc::runtime::bpf
