// `acctc apply` tells which `via` devices merge what they receive (GRO): read through the
// ethtool ioctls in the policy's namespace, on a veth pair whose GRO the test switches.
#include "acctc/runtime/device_offloads.hpp"
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

} // namespace
} // namespace acctc::runtime::testing
