// The bpf(2) wrappers (acctc/runtime/bpf.hpp) against the kernel: maps written and read in
// batches across the batch size, read-and-delete, a program the verifier refuses with its log,
// and a program on a TCX link counting real packets. Each in a namespace of its own.
#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/bpf_host_counter.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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
        EXPECT_NE(std::string(error.what()).find("R0 !read_ok"), std::string::npos) << error.what();
    }
}

// A TCX program that adds `step` to slot 0 of an array of one u64 for each packet.
UniqueFd counting_program(int counter_fd, std::int32_t step) {
    Assembler program;
    program.emit(store_imm(BPF_W, 10, -4, 0));
    program.load_map(1, counter_fd);
    program.emit(mov_reg(2, 10));
    program.emit(add_imm(2, -4));
    program.emit(call(BPF_FUNC_map_lookup_elem));
    program.jump(jump_imm(BPF_JEQ, 0, 0), "out");
    program.emit(mov_imm(1, step));
    program.emit(atomic_add64(0, 0, 1));
    program.label("out");
    program.emit(mov_imm(0, -1)); // TCX_NEXT
    program.emit(exit_program());
    return load_sched_cls(program.finish(), "acctc_test");
}

// A namespace whose lo takes datagrams to 198.18.0.1:9 (a socket is bound there, so no ICMP
// port-unreachable comes back on lo): each datagram crosses lo's ingress once.
class LoopbackTraffic {
  public:
    LoopbackTraffic() {
        NetnsScope inside(netns.name());
        receiver_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_port = htons(9);
        at.sin_addr.s_addr = htonl(0xC6120001); // 198.18.0.1
        if (::bind(receiver_.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
            throw std::runtime_error("cannot bind the receiver");
        }
    }
    UniqueFd attach(int program_fd) const {
        NetnsScope inside(netns.name());
        return attach_tcx(program_fd, static_cast<int>(::if_nametoindex("lo")));
    }
    void send(std::uint64_t count) { sender_.send(count); }

    testing::TestNamespace netns;

  private:
    UniqueFd receiver_;
    testing::UdpTraffic sender_{netns.name(), 9};
};

std::uint64_t slot0(int counter_fd) {
    return u64_at(read_map(counter_fd, 4, 8).values, 0);
}

TEST(Bpf, AProgramOnATcxLinkCountsPacketsUntilTheLinkCloses) {
    LoopbackTraffic traffic;
    const auto counter = create_map({BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, "acctc_test"});
    const auto program = counting_program(counter.get(), 1);
    auto link = traffic.attach(program.get());
    traffic.send(5);
    EXPECT_EQ(slot0(counter.get()), 5U);
    link.reset();
    traffic.send(3);
    EXPECT_EQ(slot0(counter.get()), 5U);
}

TEST(Bpf, ALinkUpdateSwapsTheProgramWithoutDetaching) {
    LoopbackTraffic traffic;
    const auto counter = create_map({BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, "acctc_test"});
    const auto ones = counting_program(counter.get(), 1);
    const auto tens = counting_program(counter.get(), 10);
    const auto link = traffic.attach(ones.get());
    traffic.send(3);
    update_link(link.get(), tens.get());
    traffic.send(2);
    EXPECT_EQ(slot0(counter.get()), 23U);
}

// The per-host program keyed by the destination on a device's egress (the bench proves the
// source on ingress): the datagrams to 198.18.0.1 leave lo once each.
TEST(BpfHostCounter, CountsByDestinationOnEgress) {
    LoopbackTraffic traffic;
    BpfHostCounter counter(BpfHostMap::hash_generations, 16, BpfHostKey::destination);
    {
        NetnsScope inside(traffic.netns.name());
        counter.attach(static_cast<int>(::if_nametoindex("lo")), false);
    }
    traffic.send(4);
    const auto counts = counter.read_and_delete();
    ASSERT_EQ(counts.hosts.size(), 1U);
    const auto& host = counts.hosts.front();
    EXPECT_FALSE(host.ipv6);
    const std::array<std::uint8_t, 4> expected{198, 18, 0, 1};
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), host.address.begin()));
    EXPECT_EQ(host.packets, 4U);
    EXPECT_EQ(host.bytes, 4 * testing::UdpTraffic::wire_bytes);
    EXPECT_EQ(counts.overflow_packets, 0U);
    EXPECT_TRUE(counter.read().hosts.empty());
}

// bpffs mounted in a private mount namespace of a child process (nothing of the host's mounts
// changes): a pinned map keeps its contents after its last descriptor is closed.
TEST(Bpf, APinnedMapOutlivesItsDescriptors) {
    char directory[] = "/tmp/acctc-bpffs-XXXXXX";
    ASSERT_NE(::mkdtemp(directory), nullptr);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int status = 1;
        try {
            if (::unshare(CLONE_NEWNS) == 0 &&
                ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                ::mount("bpf", directory, "bpf", 0, nullptr) == 0) {
                const std::string path = std::string(directory) + "/counts";
                {
                    const auto map = create_map({BPF_MAP_TYPE_HASH, 4, 8, 4, 0, "acctc_test"});
                    const std::uint32_t key = 7;
                    const std::uint64_t value = 42;
                    update_element(map.get(), &key, &value);
                    pin(map.get(), path);
                }
                const auto again = pinned(path);
                const auto read = read_map(again.get(), 4, 8);
                status =
                    read.count == 1 && u32_at(read.keys, 0) == 7 && u64_at(read.values, 0) == 42
                        ? 0
                        : 2;
            }
        } catch (const std::exception&) {
            status = 3;
        }
        ::_exit(status);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ::rmdir(directory);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no private bpffs, 2: wrong contents, 3: a call failed";
}

} // namespace
} // namespace acctc::runtime::bpf
