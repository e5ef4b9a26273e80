// Per-host counts carried from BPF into nft sets (runtime/src/bpf_nft_carry.cpp): each host in
// the part nft's jhash sends it to, the overflow in its counter's declaration, a counter with
// nowhere to go named. (The kernel test cli.bpf_hosts moves real counts both ways.)
#include "acctc/kernel_jhash.hpp"
#include "bpf_nft_carry.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

BpfHostCount v4(const char* text, std::uint64_t packets, std::uint64_t bytes) {
    BpfHostCount host;
    ::inet_pton(AF_INET, text, host.address.data());
    host.packets = packets;
    host.bytes = bytes;
    return host;
}

TEST(BpfNftCarry, HostsGoToTheirPartAndTheOverflowToItsDeclaration) {
    const std::string definition =
        "table inet acctc_p {\n"
        "\tcounter sent_overflow {\n\t\tcomment \"c\"\n\t}\n"
        "\tset sent_hosts_v4_p0 {\n\t}\n\tset sent_hosts_v4_p1 {\n\t}\n"
        "\tset sent_hosts_v4_p2 {\n\t}\n\tset sent_hosts_v4_p3 {\n\t}\n}\n";
    BpfHostCounts sent;
    sent.hosts = {v4("198.18.1.10", 3, 252)};
    sent.overflow_packets = 2;
    sent.overflow_bytes = 168;
    BpfHostCounts gone;
    gone.hosts = {v4("198.18.1.11", 1, 84)};
    HostsCarried carried;
    const std::string commit = with_hosts_from_bpf(definition, definition, "acctc_p",
                                                   {{"sent", sent}, {"gone", gone}}, carried);
    const std::uint32_t part = nft_jhash(sent.hosts[0].address.data(), 4, 0, 4);
    EXPECT_NE(commit.find("add element inet acctc_p sent_hosts_v4_p" + std::to_string(part) +
                          " { 198.18.1.10 counter packets 3 bytes 252 }\n"),
              std::string::npos)
        << commit;
    EXPECT_NE(commit.find("\tcounter sent_overflow {\n\t\tpackets 2 bytes 168\n"),
              std::string::npos)
        << commit;
    EXPECT_EQ(carried.moved, std::vector<std::string>{"sent"});
    EXPECT_EQ(carried.dropped, std::vector<std::string>{"gone"});
    EXPECT_EQ(commit.find("198.18.1.11"), std::string::npos);
}

} // namespace
} // namespace acctc::runtime
