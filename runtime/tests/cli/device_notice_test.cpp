// `acctc apply` and a `via` device the namespace does not have: a notice naming the device and
// the counter (an error with --strict, nothing loaded); once the device appears, it counts.
#include "kernel_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

class DeviceNotice : public ::testing::Test {
  protected:
    void SetUp() override {
        policy_ = std::filesystem::temp_directory_path() /
                  ("acctc-devnotice-" + std::to_string(::getpid()) + ".acct");
        std::ofstream(policy_) << "policy devnotice\n"
                                  "interface wan = eht1\n"
                                  "counter web { out; via wan; udp dport 9 }\n";
    }
    void TearDown() override { std::filesystem::remove(policy_); }

    int acctc(const std::string& arguments, std::string* out, std::string* err) const {
        return shell_status(std::string(ACCTC_CLI_PATH) + " " + arguments + " --netns " +
                                netns_.name() + " " + policy_.string(),
                            out, err);
    }
    std::string in_netns(const std::string& command) const {
        return shell("ip netns exec " + netns_.name() + " " + command);
    }

    TestNamespace netns_;
    std::filesystem::path policy_;
};

TEST_F(DeviceNotice, StrictRefusesThenANoticeThenItCountsOnceTheDeviceExists) {
    std::string out;
    std::string err;
    EXPECT_EQ(acctc("apply --strict", &out, &err), 1);
    EXPECT_NE(err.find("error: device 'eht1' does not exist in network namespace " + netns_.name()),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("counter web (" + policy_.string() + ":3)"), std::string::npos) << err;
    EXPECT_EQ(netns_.nft("list tables"), ""); // nothing loaded

    EXPECT_EQ(acctc("apply", &out, &err), 0) << err;
    EXPECT_NE(err.find("notice: device 'eht1' does not exist"), std::string::npos) << err;
    EXPECT_NE(out.find("loaded policy devnotice"), std::string::npos) << out;

    // The device appears later (a VPN, a hot-plugged NIC): the loaded rule counts through it.
    in_netns("ip link add eht1 type veth peer name eht1peer");
    in_netns("ip link set eht1peer up");
    in_netns("ip address add 198.18.5.1/24 dev eht1");
    in_netns("ip link set eht1 up");
    in_netns("bash -c 'for i in 1 2 3; do echo x > /dev/udp/198.18.5.2/9; done'");
    const auto counters = shell(std::string(ACCTC_CLI_PATH) + " counters -x --json --netns " +
                                netns_.name() + " devnotice");
    EXPECT_NE(counters.find("\"packets\": 3"), std::string::npos) << counters;
    // And now apply is silent about it.
    EXPECT_EQ(acctc("apply --strict", &out, &err), 0) << err;
    EXPECT_EQ(err.find("eht1"), std::string::npos) << err;
}

} // namespace
} // namespace acctc::runtime::testing
