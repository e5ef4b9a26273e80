// Kernel tests for the topology library: real namespaces, links and addresses, checked from
// inside the namespaces they were built in.
#include "acctc/testbench/links.hpp"
#include "acctc/testbench/netns.hpp"
#include "acctc/testbench/sysctl.hpp"
#include "acctc/testbench/topology.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acctc::testbench {
namespace {

bool netns_file_exists(const std::string& name) {
    struct stat info {};
    return ::stat((netns_run_dir / name).c_str(), &info) == 0;
}

ino_t netns_inode_of(int fd) {
    struct stat info {};
    EXPECT_EQ(::fstat(fd, &info), 0);
    return info.st_ino;
}

TopologySpec two_hosts_and_a_router() {
    TopologySpec spec;
    spec.nodes = {{"left", false}, {"router", true}, {"right", false}};
    spec.links = {{{"left", "eth0"}, {"router", "l0"}, 1500},
                  {{"router", "r0"}, {"right", "eth0"}, 1400}};
    auto prefix = [](const char* text) { return *IpPrefix::parse(text); };
    spec.addresses = {{{"left", "eth0"}, prefix("198.18.1.1/24")},
                      {{"left", "eth0"}, prefix("2001:db8:1::1/64")},
                      {{"router", "l0"}, prefix("198.18.1.254/24")},
                      {{"router", "l0"}, prefix("2001:db8:1::fe/64")},
                      {{"router", "r0"}, prefix("198.18.2.254/24")},
                      {{"router", "r0"}, prefix("2001:db8:2::fe/64")},
                      {{"right", "eth0"}, prefix("198.18.2.1/24")},
                      {{"right", "eth0"}, prefix("2001:db8:2::1/64")}};
    spec.routes = {{"left", prefix("0.0.0.0/0"), IpAddress::parse("198.18.1.254")},
                   {"left", prefix("::/0"), IpAddress::parse("2001:db8:1::fe")},
                   {"right", prefix("0.0.0.0/0"), IpAddress::parse("198.18.2.254")},
                   {"right", prefix("::/0"), IpAddress::parse("2001:db8:2::fe")}};
    return spec;
}

// Sends one UDP datagram from `from` to `to` and reads it there: proves addresses, routes,
// neighbours and forwarding all work, for either family.
bool udp_reaches(const Topology& topology, const std::string& from, const std::string& to,
                 const std::string& address_text) {
    const auto address = *IpAddress::parse(address_text);
    sockaddr_storage target{};
    socklen_t target_length = 0;
    if (address.is_v4()) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&target);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(40000);
        std::memcpy(&v4->sin_addr, address.bytes.data(), 4);
        target_length = sizeof(sockaddr_in);
    } else {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&target);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(40000);
        std::memcpy(&v6->sin6_addr, address.bytes.data(), 16);
        target_length = sizeof(sockaddr_in6);
    }
    UniqueFd receiver;
    UniqueFd sender;
    {
        ScopedNetns inside(topology.netns(to));
        receiver.reset(::socket(address.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (::bind(receiver.get(), reinterpret_cast<sockaddr*>(&target), target_length) != 0) {
            ADD_FAILURE() << "bind " << address_text << ": " << std::strerror(errno);
            return false;
        }
    }
    {
        ScopedNetns inside(topology.netns(from));
        sender.reset(::socket(address.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }
    const char message[] = "ping";
    if (::sendto(sender.get(), message, sizeof message, 0, reinterpret_cast<sockaddr*>(&target),
                 target_length) != static_cast<ssize_t>(sizeof message)) {
        ADD_FAILURE() << "sendto " << address_text << ": " << std::strerror(errno);
        return false;
    }
    timeval timeout{2, 0};
    ::setsockopt(receiver.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buffer[16];
    return ::recv(receiver.get(), buffer, sizeof buffer, 0) == static_cast<ssize_t>(sizeof message);
}

TEST(NamedNetns, IsBindMountedUnderRunNetnsAndRemovedWithTheObject) {
    const auto name = RunPrefix::current().text() + "solo";
    ino_t inode = 0;
    {
        auto netns = NamedNetns::create(name);
        EXPECT_TRUE(netns_file_exists(name));
        inode = netns_inode_of(netns.fd());
        struct stat own {};
        ASSERT_EQ(::stat("/proc/self/ns/net", &own), 0);
        EXPECT_NE(inode, own.st_ino) << "a new namespace, not ours";
        struct stat mounted {};
        ASSERT_EQ(::stat(netns.path().c_str(), &mounted), 0);
        EXPECT_EQ(mounted.st_ino, inode) << "the file is the namespace (bind mount)";
    }
    EXPECT_FALSE(netns_file_exists(name));
}

TEST(NamedNetns, CreatingTwiceFails) {
    const auto name = RunPrefix::current().text() + "twice";
    auto netns = NamedNetns::create(name);
    EXPECT_THROW(NamedNetns::create(name), std::system_error);
    EXPECT_TRUE(netns_file_exists(name)) << "the failed attempt must not remove the first";
}

TEST(NamedNetns, ScopedNetnsReturnsToTheOriginalNamespace) {
    struct stat before {};
    ASSERT_EQ(::stat("/proc/thread-self/ns/net", &before), 0);
    auto netns = NamedNetns::create(RunPrefix::current().text() + "scoped");
    {
        ScopedNetns inside(netns);
        struct stat during {};
        ASSERT_EQ(::stat("/proc/thread-self/ns/net", &during), 0);
        EXPECT_EQ(during.st_ino, netns_inode_of(netns.fd()));
    }
    struct stat after {};
    ASSERT_EQ(::stat("/proc/thread-self/ns/net", &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino);
}

TEST(RunPrefix, ParsesItsOwnTextAndKnowsItIsAlive) {
    const auto prefix = RunPrefix::current();
    RunPrefix parsed;
    ASSERT_TRUE(RunPrefix::parse(prefix.text() + "home", parsed));
    EXPECT_EQ(parsed.pid, prefix.pid);
    EXPECT_EQ(parsed.start_ticks, prefix.start_ticks);
    EXPECT_TRUE(parsed.owner_alive());
    EXPECT_FALSE(RunPrefix::parse("acctc-tb-x-1-home", parsed));
    EXPECT_FALSE(RunPrefix::parse("other-1-2-home", parsed));
    parsed.start_ticks += 1; // same pid, other process: a reused pid is not alive
    EXPECT_FALSE(parsed.owner_alive());
}

// A child creates a namespace and dies without cleaning up: exactly what SIGKILL leaves.
std::string namespace_left_by_a_dead_child() {
    int pipe_fds[2];
    EXPECT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(pipe_fds[0]);
        const auto name = RunPrefix::current().text() + "leftover";
        try {
            auto netns = NamedNetns::create(name);
            (void)!::write(pipe_fds[1], name.data(), name.size());
            ::_exit(0); // no destructors: the mount stays
        } catch (...) {
            ::_exit(1);
        }
    }
    ::close(pipe_fds[1]);
    char buffer[256];
    const auto length = ::read(pipe_fds[0], buffer, sizeof buffer);
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    return length > 0 ? std::string(buffer, static_cast<std::size_t>(length)) : std::string();
}

TEST(StaleNamespaces, ADeadRunsNamespaceIsRemovedAndALiveOneKept) {
    const auto dead_name = namespace_left_by_a_dead_child();
    ASSERT_FALSE(dead_name.empty());
    ASSERT_TRUE(netns_file_exists(dead_name));
    auto live = NamedNetns::create(RunPrefix::current().text() + "alive");

    const auto stale = stale_namespaces();
    EXPECT_NE(std::find(stale.begin(), stale.end(), dead_name), stale.end());
    EXPECT_EQ(std::find(stale.begin(), stale.end(), live.name()), stale.end());

    const auto removed = remove_stale_namespaces();
    EXPECT_NE(std::find(removed.begin(), removed.end(), dead_name), removed.end());
    EXPECT_FALSE(netns_file_exists(dead_name));
    EXPECT_TRUE(netns_file_exists(live.name()));
}

TEST(Topology, BuildsNamespacesAndRoutesBothFamiliesThroughARouter) {
    const auto prefix = RunPrefix::current();
    std::string left_name;
    {
        Topology topology(two_hosts_and_a_router(), prefix);
        left_name = topology.netns("left").name();
        EXPECT_EQ(left_name, prefix.text() + "left");
        EXPECT_TRUE(netns_file_exists(left_name));
        EXPECT_EQ(read_sysctl(topology.netns("router"), "net/ipv4/ip_forward"), "1");
        EXPECT_EQ(read_sysctl(topology.netns("left"), "net/ipv4/ip_forward"), "0");
        EXPECT_EQ(read_sysctl(topology.netns("router"), "net/ipv4/conf/r0/rp_filter"), "0");
        EXPECT_TRUE(udp_reaches(topology, "left", "right", "198.18.2.1"));
        EXPECT_TRUE(udp_reaches(topology, "right", "left", "2001:db8:1::1"));
        EXPECT_TRUE(udp_reaches(topology, "left", "left", "127.0.0.1")) << "loopback is up";
        {
            ScopedNetns inside(topology.netns("router"));
            RtnlSocket rtnl;
            EXPECT_GT(link_index(rtnl, "l0"), 1);
            EXPECT_THROW(link_index(rtnl, "eth0"), std::runtime_error) << "eth0 is elsewhere";
        }
    }
    EXPECT_FALSE(netns_file_exists(left_name));
}

TEST(Topology, RefusesAddressesOutsideTheTestRanges) {
    auto spec = two_hosts_and_a_router();
    spec.addresses.push_back({{"left", "eth0"}, *IpPrefix::parse("10.0.0.1/24")});
    const auto problems = spec.problems();
    ASSERT_EQ(problems.size(), 1U);
    EXPECT_NE(problems[0].find("10.0.0.1/24"), std::string::npos);
    EXPECT_THROW(Topology(spec, RunPrefix::current()), std::invalid_argument);
}

TEST(Topology, RefusesUnknownNodesAndReusedInterfaces) {
    auto spec = two_hosts_and_a_router();
    spec.links.push_back({{"left", "eth0"}, {"nowhere", "x0"}, 1500});
    const auto problems = spec.problems();
    EXPECT_EQ(problems.size(), 2U);
}

TEST(Topology, AFailedBuildLeavesNoNamespace) {
    auto spec = two_hosts_and_a_router();
    // Passes the static checks, fails in the kernel: the same address twice.
    spec.addresses.push_back(spec.addresses.front());
    const auto prefix = RunPrefix::current();
    EXPECT_THROW(Topology(spec, prefix), std::system_error);
    for (const auto& node : spec.nodes) {
        EXPECT_FALSE(netns_file_exists(prefix.text() + node.name));
    }
}

} // namespace
} // namespace acctc::testbench
