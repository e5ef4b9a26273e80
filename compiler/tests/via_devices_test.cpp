// The devices `acctc apply` asks about (receive offloads): every exact `via` device, with the
// counters and classifications declared on it, in order of first use; wildcards left out.
#include "acctc/compile.hpp"

#include <gtest/gtest.h>

namespace acctc {
namespace {

TEST(ViaDevices, ListsExactDevicesWithTheirCounters) {
    const auto result = compile_source("p.acct", R"(policy p
interface wan = eth0
interface tunnels = tun*
interface both = eth0, eth1
counter a { via wan }
counter b { forward in via both; split direction }
counter c { via tunnels }
classify k via both { x: udp }
)");
    ASSERT_TRUE(result.output);
    const auto& devices = result.output->via_devices;
    ASSERT_EQ(devices.size(), 2u);
    EXPECT_EQ(devices[0].device, "eth0");
    EXPECT_EQ(devices[0].counters, (std::vector<std::string>{"a", "b", "k"}));
    EXPECT_EQ(devices[1].device, "eth1");
    EXPECT_EQ(devices[1].counters, (std::vector<std::string>{"b", "k"}));
}

} // namespace
} // namespace acctc
