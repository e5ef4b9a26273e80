// `acctc apply` tells which `via` devices merge what they receive (GRO): read through the
// ethtool ioctls in the policy's namespace, on a veth pair whose GRO the test switches.
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/device_offloads.hpp"
#include "acctc/runtime/exposition.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"
#include "unique_fd.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace acctc::runtime::testing {
namespace {

void set_gro(const std::string& netns, const std::string& device, bool on) {
    NetnsScope scope(netns);
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ::ethtool_value value{};
    value.cmd = ETHTOOL_SGRO;
    value.data = on ? 1 : 0;
    ifreq request{};
    std::strncpy(request.ifr_name, device.c_str(), IFNAMSIZ - 1);
    request.ifr_data = reinterpret_cast<char*>(&value);
    ASSERT_EQ(::ioctl(fd.get(), SIOCETHTOOL, &request), 0) << std::strerror(errno);
}

TEST(OffloadNotes, NameTheCountersOfDevicesWithGroOn) {
    TestNamespace ns;
    shell("ip -n " + ns.name() + " link add wan0 type veth peer name lan0");
    CompiledPolicy policy;
    policy.devices = {
        {"wan0", {{"counter skype", "p:2"}, {"drop", "p:3"}, {"counter skype_ping", "p:4"}}},
        {"lan0", {{"classify office", "p:5"}}},
        {"missing0", {{"counter gone", "p:6"}}},
        {"wan*", {{"counter any", "p:7"}}}};
    set_gro(ns.name(), "wan0", false);
    set_gro(ns.name(), "lan0", false);
    EXPECT_TRUE(receive_offload_notes(policy, ns.name()).empty());

    set_gro(ns.name(), "wan0", true);
    const auto notes = receive_offload_notes(policy, ns.name());
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(
        notes[0].rfind(
            "note: wan0 has generic-receive-offload on: counter skype, counter skype_ping count "
            "what arrives there as merged packets",
            0),
        0u)
        << notes[0];
    {
        NetnsScope scope(ns.name());
        const auto offloads = read_receive_offloads("wan0");
        ASSERT_TRUE(offloads);
        EXPECT_TRUE(offloads->gro);
        EXPECT_FALSE(read_receive_offloads("missing0"));
    }
}

const CounterSample& sample(const std::vector<CounterSample>& samples, const std::string& name) {
    for (const auto& s : samples) {
        if (s.counter == name) {
            return s;
        }
    }
    ADD_FAILURE() << "no counter " << name;
    static const CounterSample none;
    return none;
}

// The counters' readings say which of them count merged packets: TCP leaving always (GSO),
// TCP arriving while its device has GRO on, and nothing that cannot carry TCP.
TEST(OffloadNotes, ReadingsSayWhichCountersCountMergedPackets) {
    TestNamespace ns;
    shell("ip -n " + ns.name() + " link add wan0 type veth peer name lan0");
    auto compiled = compile_source("merged.acct", "policy merged\n"
                                                  "interface wan = wan0\n"
                                                  "interface lan = lan0\n"
                                                  "counter line { via wan; split direction }\n"
                                                  "counter lan_in { in via lan }\n"
                                                  "counter datagrams { via wan; protocol udp }\n"
                                                  "counter pings { via wan; icmp echo-request }\n");
    ASSERT_TRUE(compiled.output);
    set_gro(ns.name(), "wan0", false);
    set_gro(ns.name(), "lan0", false);
    make_backend(BackendKind::nftables, ns.name())->apply(*compiled.output, false);

    auto samples = read_counters("merged", ns.name());
    EXPECT_TRUE(sample(samples, "line_out").wire.merged());
    EXPECT_TRUE(sample(samples, "line_out").wire.has(WireDifference::segmentation_offload));
    EXPECT_FALSE(sample(samples, "line_in").wire.merged());
    EXPECT_FALSE(sample(samples, "lan_in").wire.merged());
    EXPECT_FALSE(sample(samples, "datagrams").wire.merged());
    // Counted at egress, after fragmentation (docs/counting.md, "Leaving fragments"); an ICMP
    // type is not (non-first fragments carry none).
    EXPECT_FALSE(sample(samples, "datagrams").wire.has(WireDifference::fragmentation));
    EXPECT_TRUE(sample(samples, "pings").wire.has(WireDifference::fragmentation));
    EXPECT_FALSE(sample(samples, "pings").wire.merged());

    set_gro(ns.name(), "wan0", true);
    samples = read_counters("merged", ns.name());
    EXPECT_TRUE(sample(samples, "line_in").wire.has(WireDifference::receive_offload));
    EXPECT_TRUE(sample(samples, "line_in").wire.merged());
    EXPECT_FALSE(sample(samples, "lan_in").wire.merged()) << "lan0's GRO is off";
    EXPECT_FALSE(sample(samples, "datagrams").wire.merged());

    set_gro(ns.name(), "lan0", true);
    samples = read_counters("merged", ns.name());
    EXPECT_TRUE(sample(samples, "lan_in").wire.merged());
    const std::string exposition = format_prometheus(samples, 100);
    EXPECT_NE(exposition.find("acctc_offload_merged_info{policy=\"merged\",counter=\"line\","
                              "direction=\"in\",offload=\"gro\"} 1\n"),
              std::string::npos)
        << exposition;
    EXPECT_EQ(exposition.find("counter=\"datagrams\",offload"), std::string::npos) << exposition;
}

// Element counters (4,096 classes or more) resolve their receive devices as they are read and
// do not keep them (docs/performance.md): a class counted in via lan is not flagged for wan0's
// GRO, and is once lan0 merges too.
TEST(OffloadNotes, ElementCountersSayWhichClassesCountMergedPackets) {
    TestNamespace ns;
    shell("ip -n " + ns.name() + " link add wan0 type veth peer name lan0");
    std::string source = "policy many\ninterface wan = wan0\ninterface lan = lan0\n"
                         "classify svc in via lan {\n";
    for (int i = 0; i < 4096; ++i) {
        source += "    c" + std::to_string(i) + ": tcp dport " + std::to_string(1000 + i) + "\n";
    }
    source += "    otherwise: rest\n}\n";
    auto compiled = compile_source("many.acct", source);
    ASSERT_TRUE(compiled.output);
    ASSERT_FALSE(compiled.output->element_counters.empty());
    set_gro(ns.name(), "wan0", true);
    set_gro(ns.name(), "lan0", false);
    make_backend(BackendKind::nftables, ns.name())->apply(*compiled.output, false);

    auto samples = read_counters("many", ns.name());
    ASSERT_EQ(samples.size(), 4097U);
    EXPECT_FALSE(sample(samples, "svc_c0").wire.merged()) << "lan0's GRO is off";
    EXPECT_FALSE(sample(samples, "svc_c4095").wire.merged());

    set_gro(ns.name(), "lan0", true);
    samples = read_counters("many", ns.name());
    EXPECT_TRUE(sample(samples, "svc_c0").wire.has(WireDifference::receive_offload));
    EXPECT_TRUE(sample(samples, "svc_c4095").wire.merged());
    EXPECT_TRUE(sample(samples, "svc_rest").wire.merged());
}

} // namespace
} // namespace acctc::runtime::testing
