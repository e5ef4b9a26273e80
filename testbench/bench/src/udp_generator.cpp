#include "acctc/bench/udp_generator.hpp"

#include "acctc/testbench/process.hpp"
#include "acctc/testbench/unique_fd.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <time.h>

namespace acctc::bench {
namespace {

using Clock = std::chrono::steady_clock;

// IPv6: the same UDP payload behind a 40-byte header (length + 20 bytes on the wire). The UDP
// checksum stays 0, which IPv6 receivers refuse; nothing here receives: the router forwards
// without looking and the sink drops every frame before IPv6 does.
std::vector<std::uint8_t> build_packet6(const GeneratorFlow& flow, unsigned length) {
    const unsigned total = length + static_cast<unsigned>(sizeof(ip6_hdr) - sizeof(iphdr));
    std::vector<std::uint8_t> packet(total, 0x5a);
    ip6_hdr ip{};
    ip.ip6_flow = htonl(6U << 28);
    ip.ip6_plen = htons(static_cast<std::uint16_t>(total - sizeof ip));
    ip.ip6_nxt = IPPROTO_UDP;
    ip.ip6_hlim = 64;
    std::memcpy(&ip.ip6_src, flow.source.bytes.data(), 16);
    std::memcpy(&ip.ip6_dst, flow.destination.bytes.data(), 16);
    udphdr udp{};
    udp.source = htons(flow.source_port);
    udp.dest = htons(flow.destination_port);
    udp.len = ip.ip6_plen;
    std::memcpy(packet.data(), &ip, sizeof ip);
    std::memcpy(packet.data() + sizeof ip, &udp, sizeof udp);
    return packet;
}

std::vector<std::uint8_t> build_packet(const GeneratorFlow& flow, unsigned length) {
    if (!flow.source.is_v4()) {
        return build_packet6(flow, length);
    }
    std::vector<std::uint8_t> packet(length, 0x5a);
    iphdr ip{};
    ip.version = 4;
    ip.ihl = 5;
    ip.tot_len = htons(static_cast<std::uint16_t>(length));
    ip.ttl = 64;
    ip.protocol = IPPROTO_UDP;
    std::memcpy(&ip.saddr, flow.source.bytes.data(), 4);
    std::memcpy(&ip.daddr, flow.destination.bytes.data(), 4);
    // The kernel fills in the header checksum and the id; UDP checksum 0 means "none".
    udphdr udp{};
    udp.source = htons(flow.source_port);
    udp.dest = htons(flow.destination_port);
    udp.len = htons(static_cast<std::uint16_t>(length - sizeof ip));
    std::memcpy(packet.data(), &ip, sizeof ip);
    std::memcpy(packet.data() + sizeof ip, &udp, sizeof udp);
    return packet;
}

// One raw socket per owner group, created with that group as fsgid: the socket's file
// credentials are what `meta skgid` reports for every packet it sends.
struct GroupSocket {
    testbench::UniqueFd fd;
    std::vector<std::size_t> flows;
    std::size_t next = 0;
};

testbench::UniqueFd raw_socket_as(gid_t gid, int family) {
    ::setfsgid(gid);
    // IPPROTO_RAW implies IP_HDRINCL (IPv6: IPV6_HDRINCL).
    const int fd = ::socket(family, SOCK_RAW, IPPROTO_RAW);
    const int error = errno;
    ::setfsgid(0);
    if (fd < 0) {
        testbench::throw_errno("raw socket for gid " + std::to_string(gid), error);
    }
    return testbench::UniqueFd(fd);
}

// This thread's time on a CPU: on veth the whole forward path runs in the sender's softirq, in
// its context, so this is the path's cost without the time other processes held the CPU.
long long thread_cpu_nanoseconds() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void generate(const GeneratorSpec& spec, testbench::ControlChannel& channel) {
    std::vector<std::vector<std::uint8_t>> packets;
    std::vector<sockaddr_storage> destinations;
    std::vector<socklen_t> destination_lengths;
    std::map<std::pair<gid_t, int>, GroupSocket> by_gid;
    for (std::size_t i = 0; i < spec.flows.size(); ++i) {
        const auto& flow = spec.flows[i];
        if (flow.source.is_v4() != flow.destination.is_v4()) {
            throw std::invalid_argument("the generator's flows have one family each");
        }
        packets.push_back(build_packet(flow, spec.packet_length));
        sockaddr_storage to{};
        if (flow.destination.is_v4()) {
            auto* v4 = reinterpret_cast<sockaddr_in*>(&to);
            v4->sin_family = AF_INET;
            std::memcpy(&v4->sin_addr, flow.destination.bytes.data(), 4);
            destination_lengths.push_back(sizeof(sockaddr_in));
        } else {
            auto* v6 = reinterpret_cast<sockaddr_in6*>(&to);
            v6->sin6_family = AF_INET6;
            std::memcpy(&v6->sin6_addr, flow.destination.bytes.data(), 16);
            destination_lengths.push_back(sizeof(sockaddr_in6));
        }
        destinations.push_back(to);
        const int family = flow.destination.is_v4() ? AF_INET : AF_INET6;
        auto& group = by_gid[{flow.gid, family}];
        if (!group.fd.valid()) {
            group.fd = raw_socket_as(flow.gid, family);
        }
        group.flows.push_back(i);
    }
    std::vector<GroupSocket*> sockets;
    for (auto& [gid, group] : by_gid) {
        group.next = spec.first_flow;
        sockets.push_back(&group);
    }
    std::vector<mmsghdr> messages(spec.batch);
    std::vector<iovec> vectors(spec.batch);
    if (spec.cpu >= 0) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(spec.cpu, &cpus);
        if (::sched_setaffinity(0, sizeof cpus, &cpus) != 0) {
            testbench::throw_errno("sched_setaffinity to CPU " + std::to_string(spec.cpu));
        }
    }
    channel.send("ready");
    if (channel.receive(std::chrono::seconds(30)) != "go") {
        throw std::runtime_error("no go from the bench");
    }
    std::uint64_t sent = 0;
    std::size_t round = 0;
    const long long cpu_start = thread_cpu_nanoseconds();
    const auto start = Clock::now();
    const auto deadline = start + spec.max_time;
    auto now = start;
    while (sent < spec.max_packets && now < deadline) {
        // Each call goes to one socket (one group), rotating through them between calls.
        auto& group = *sockets[round++ % sockets.size()];
        const auto count =
            static_cast<unsigned>(std::min<std::uint64_t>(spec.batch, spec.max_packets - sent));
        for (unsigned m = 0; m < count; ++m) {
            const std::size_t flow = group.flows[group.next++ % group.flows.size()];
            vectors[m] = {packets[flow].data(), packets[flow].size()};
            messages[m] = {};
            messages[m].msg_hdr.msg_name = &destinations[flow];
            messages[m].msg_hdr.msg_namelen = destination_lengths[flow];
            messages[m].msg_hdr.msg_iov = &vectors[m];
            messages[m].msg_hdr.msg_iovlen = 1;
        }
        const int done = ::sendmmsg(group.fd.get(), messages.data(), count, 0);
        if (done < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
            testbench::throw_errno("sendmmsg");
        }
        sent += done > 0 ? static_cast<std::uint64_t>(done) : 0;
        now = Clock::now();
    }
    const auto nanoseconds =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count();
    const long long cpu_nanoseconds = thread_cpu_nanoseconds() - cpu_start;
    channel.send("done " + std::to_string(sent) + " " + std::to_string(nanoseconds) + " " +
                 std::to_string(cpu_nanoseconds));
}

} // namespace

GeneratorResult run_udp_generator(const testbench::NamedNetns& netns, const GeneratorSpec& spec) {
    if (spec.flows.empty() || spec.batch == 0 || spec.packet_length < 28 ||
        spec.packet_length > 1500) {
        throw std::invalid_argument("generator: flows, a batch size and a length of 28..1500");
    }
    auto child = testbench::ChildProcess::spawn(
        "udp generator", netns, testbench::Identity{},
        [&spec](testbench::ControlChannel& channel) { generate(spec, channel); });
    auto expect = [&](std::chrono::milliseconds timeout) {
        auto line = child.channel().receive(timeout);
        if (!line || line->rfind("error", 0) == 0) {
            throw std::runtime_error("udp generator in " + netns.name() + ": " +
                                     line.value_or("no answer"));
        }
        return *line;
    };
    if (expect(std::chrono::seconds(10)) != "ready") {
        throw std::runtime_error("udp generator did not get ready");
    }
    child.channel().send("go");
    std::istringstream done(expect(spec.max_time + std::chrono::seconds(30)));
    std::string word;
    long long nanoseconds = 0;
    long long cpu_nanoseconds = 0;
    GeneratorResult result;
    if (!(done >> word >> result.sent >> nanoseconds >> cpu_nanoseconds) || word != "done") {
        throw std::runtime_error("udp generator: malformed report");
    }
    result.seconds = static_cast<double>(nanoseconds) * 1e-9;
    result.cpu_seconds = static_cast<double>(cpu_nanoseconds) * 1e-9;
    if (child.wait(std::chrono::seconds(10)) != 0) {
        throw std::runtime_error("udp generator exited with an error");
    }
    return result;
}

} // namespace acctc::bench
