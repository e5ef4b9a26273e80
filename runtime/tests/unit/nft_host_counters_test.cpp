// Which counter a `split host` set's elements report under, from the set's name alone: a whole
// set and the parts of a large one (NAME_hosts_v4_p3) report as the same counter.
#include "nft_host_counters.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

TEST(HostCounterName, WholeSetsAndPartsReportUnderTheCounter) {
    EXPECT_EQ(host_counter_name("lan_in_hosts_v4"), "lan_in");
    EXPECT_EQ(host_counter_name("lan_in_hosts_v6"), "lan_in");
    EXPECT_EQ(host_counter_name("devices_hosts_mac"), "devices");
    EXPECT_EQ(host_counter_name("lan_in_hosts_v4_p0"), "lan_in");
    EXPECT_EQ(host_counter_name("lan_in_hosts_v6_p15"), "lan_in");
    EXPECT_EQ(host_counter_name("devices_hosts_mac_p63"), "devices");
}

TEST(HostCounterName, OtherNamesStayAsTheyAre) {
    EXPECT_EQ(host_counter_name("peers_skype_v4"), "peers_skype_v4");
    EXPECT_EQ(host_counter_name("x_p3"), "x_p3");
    EXPECT_EQ(host_counter_name("lan_hosts_v4_p"), "lan_hosts_v4_p");
    EXPECT_EQ(host_counter_name("lan_hosts_v4_px"), "lan_hosts_v4_px");
}

} // namespace
} // namespace acctc::runtime
