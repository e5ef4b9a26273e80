// Per-host counts cut to a prefix (to_prefixes, runtime/src/bpf_host_counter.cpp): what maps of
// `split host /V4 /V6` hold for the same packets, when counts are carried into them.
#include "acctc/runtime/bpf_host_counter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <string>

namespace acctc::runtime {
namespace {

BpfHostCount host(const char* text, std::uint64_t packets, std::uint64_t bytes) {
    BpfHostCount out;
    out.ipv6 = std::string(text).find(':') != std::string::npos;
    ::inet_pton(out.ipv6 ? AF_INET6 : AF_INET, text, out.address.data());
    out.packets = packets;
    out.bytes = bytes;
    return out;
}

std::string text(const BpfHostCount& host) {
    char out[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(host.ipv6 ? AF_INET6 : AF_INET, host.address.data(), out, sizeof out);
    return out;
}

TEST(BpfHostPrefixes, HostsOfOnePrefixAreSummedUnderItsFirstAddress) {
    BpfHostCounts counts;
    counts.hosts = {host("198.18.1.10", 3, 252),        host("198.18.3.7", 1, 84),
                    host("198.18.1.200", 2, 168),       host("2001:db8:1::10", 4, 416),
                    host("2001:db8:1::ffff:1", 1, 104), host("2001:db8:1:5::1", 1, 104)};
    counts.overflow_packets = 5;
    counts.overflow_bytes = 500;
    const BpfHostCounts cut = to_prefixes(counts, 24, 64);
    ASSERT_EQ(cut.hosts.size(), 4u);
    EXPECT_EQ(text(cut.hosts[0]), "198.18.1.0");
    EXPECT_EQ(cut.hosts[0].packets, 5u);
    EXPECT_EQ(cut.hosts[0].bytes, 420u);
    EXPECT_EQ(text(cut.hosts[1]), "198.18.3.0");
    EXPECT_EQ(text(cut.hosts[2]), "2001:db8:1::");
    EXPECT_EQ(cut.hosts[2].packets, 5u);
    EXPECT_EQ(cut.hosts[2].bytes, 520u);
    EXPECT_EQ(text(cut.hosts[3]), "2001:db8:1:5::");
    EXPECT_EQ(cut.overflow_packets, 5u);
    EXPECT_EQ(cut.overflow_bytes, 500u);
}

TEST(BpfHostPrefixes, WholeAddressesStayAndOddPrefixesCutInsideAByte) {
    BpfHostCounts counts;
    counts.hosts = {host("198.18.1.10", 1, 84), host("2001:db8::1", 1, 104)};
    const BpfHostCounts same = to_prefixes(counts, 32, 128);
    ASSERT_EQ(same.hosts.size(), 2u);
    EXPECT_EQ(text(same.hosts[0]), "198.18.1.10");
    EXPECT_EQ(text(same.hosts[1]), "2001:db8::1");
    const BpfHostCounts odd = to_prefixes({{host("198.18.1.255", 1, 84)}, 0, 0}, 25, 128);
    EXPECT_EQ(text(odd.hosts[0]), "198.18.1.128");
}

} // namespace
} // namespace acctc::runtime
