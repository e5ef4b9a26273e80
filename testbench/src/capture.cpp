#include "acctc/testbench/capture.hpp"

#include "socket_address.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/mman.h>

namespace acctc::testbench {
namespace {

constexpr int capture_buffer_bytes = 64 << 20;

// Everything known about one packet after parsing its IP header chain.
struct ParsedPacket {
    int protocol = 0;
    IpAddress source;
    IpAddress destination;
    std::uint64_t length = 0; // L3 length from the header
    bool fragment = false;
    bool first_fragment = true;
    bool more_fragments = false;
    std::uint32_t fragment_id = 0;
    std::uint64_t fragment_data = 0; // bytes after the (fragment) header
    std::uint64_t header_length = 0; // what a reassembled datagram has once
    std::optional<std::pair<std::uint16_t, std::uint16_t>> ports;
};

std::uint16_t read16(const std::uint8_t* at) {
    return static_cast<std::uint16_t>(at[0] << 8 | at[1]);
}

void parse_transport(ParsedPacket& packet, const std::uint8_t* at, std::size_t available) {
    if (!packet.first_fragment) {
        return;
    }
    if ((packet.protocol == IPPROTO_UDP || packet.protocol == IPPROTO_TCP) && available >= 4) {
        packet.ports = {read16(at), read16(at + 2)};
    } else if ((packet.protocol == IPPROTO_ICMP || packet.protocol == IPPROTO_ICMPV6) &&
               available >= 8) {
        const auto type = at[0];
        const auto id = read16(at + 4);
        if (type == ICMP_ECHO || type == ICMP6_ECHO_REQUEST) {
            packet.ports = {id, 0};
        } else if (type == ICMP_ECHOREPLY || type == ICMP6_ECHO_REPLY) {
            packet.ports = {0, id};
        }
    }
}

std::optional<ParsedPacket> parse_ipv4(const std::uint8_t* data, std::size_t size) {
    if (size < 20 || (data[0] >> 4) != 4) {
        return std::nullopt;
    }
    ParsedPacket packet;
    const std::size_t header = (data[0] & 0x0f) * 4U;
    packet.length = read16(data + 2);
    packet.protocol = data[9];
    packet.source.family = packet.destination.family = AF_INET;
    std::memcpy(packet.source.bytes.data(), data + 12, 4);
    std::memcpy(packet.destination.bytes.data(), data + 16, 4);
    const auto fragment_field = read16(data + 6);
    const unsigned offset = (fragment_field & 0x1fff) * 8U;
    packet.more_fragments = (fragment_field & 0x2000) != 0;
    packet.fragment = packet.more_fragments || offset != 0;
    packet.first_fragment = offset == 0;
    packet.fragment_id = read16(data + 4);
    packet.header_length = header;
    packet.fragment_data = packet.length - header;
    if (header <= size) {
        parse_transport(packet, data + header, size - header);
    }
    return packet;
}

std::optional<ParsedPacket> parse_ipv6(const std::uint8_t* data, std::size_t size) {
    if (size < 40 || (data[0] >> 4) != 6) {
        return std::nullopt;
    }
    ParsedPacket packet;
    packet.length = 40U + read16(data + 4);
    packet.source.family = packet.destination.family = AF_INET6;
    std::memcpy(packet.source.bytes.data(), data + 8, 16);
    std::memcpy(packet.destination.bytes.data(), data + 24, 16);
    int next = data[6];
    std::size_t at = 40;
    std::optional<int> first_option; // the first hop-by-hop, routing or destination header
    // Walk extension headers: hop-by-hop, routing, destination options, fragment.
    while (at + 8 <= size) {
        if (next == IPPROTO_FRAGMENT) {
            const auto offset_field = read16(data + at + 2);
            packet.fragment = true;
            packet.first_fragment = (offset_field & 0xfff8) == 0;
            packet.more_fragments = (offset_field & 1) != 0;
            packet.fragment_id = static_cast<std::uint32_t>(data[at + 4]) << 24 |
                                 static_cast<std::uint32_t>(data[at + 5]) << 16 |
                                 static_cast<std::uint32_t>(data[at + 6]) << 8 | data[at + 7];
            next = data[at];
            at += 8;
            packet.header_length = at;
            continue;
        }
        if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
            if (!first_option) {
                first_option = next;
            }
            next = data[at];
            at += (data[at + 1] + 1U) * 8U;
            continue;
        }
        break;
    }
    // A chain of extension headers that ends in "no next header" is what a raw flow of the
    // first one sends (udp_peers.cpp): it is that flow's packet.
    packet.protocol = next == IPPROTO_NONE && first_option ? *first_option : next;
    if (!packet.fragment) {
        packet.header_length = at;
    } else {
        packet.header_length -= 8; // a reassembled datagram has no fragment header
    }
    packet.fragment_data = packet.length - at;
    if (at <= size) {
        parse_transport(packet, data + at, size - at);
    }
    return packet;
}

// Tallies inside the capture process.
class Tallies {
  public:
    void add(const ParsedPacket& packet) {
        report_.total.packets += 1;
        report_.total.bytes += packet.length;
        CaptureKey key{packet.protocol, {packet.source, 0, packet.destination, 0}};
        if (!packet.fragment) {
            if (packet.ports) {
                key.tuple.source_port = packet.ports->first;
                key.tuple.destination_port = packet.ports->second;
            }
            auto& tally = report_.by_key[key];
            tally.wire += {1, packet.length, 0};
            tally.datagrams += {1, packet.length, 0};
            return;
        }
        const FragmentKey fragment_key{packet.source, packet.destination, packet.fragment_id};
        auto& pending = fragments_[fragment_key];
        if (packet.first_fragment && packet.ports) {
            pending.key.tuple.source_port = packet.ports->first;
            pending.key.tuple.destination_port = packet.ports->second;
        }
        if (packet.first_fragment) {
            pending.key.protocol = packet.protocol;
            pending.key.tuple.source = packet.source;
            pending.key.tuple.destination = packet.destination;
            pending.seen_first = true;
            pending.header_length = packet.header_length;
        }
        pending.wire += {1, packet.length, 0};
        pending.data += packet.fragment_data;
        if (!packet.more_fragments) {
            pending.seen_last = true;
        }
        if (pending.seen_first && pending.seen_last) {
            auto& tally = report_.by_key[pending.key];
            tally.wire += pending.wire;
            tally.datagrams += {1, pending.header_length + pending.data, 0};
            fragments_.erase(fragment_key);
        }
    }

    CaptureReport finish() {
        for (const auto& [key, pending] : fragments_) {
            report_.problems.push_back("incomplete fragmented datagram from " +
                                       key.source.to_string() + " (" +
                                       std::to_string(pending.wire.packets) + " fragments)");
            report_.by_key[pending.key].wire += pending.wire;
        }
        return report_;
    }

  private:
    struct FragmentKey {
        IpAddress source;
        IpAddress destination;
        std::uint32_t id = 0;
        auto operator<=>(const FragmentKey&) const = default;
    };
    struct Pending {
        CaptureKey key;
        Traffic wire;
        std::uint64_t data = 0;
        std::uint64_t header_length = 0;
        bool seen_first = false;
        bool seen_last = false;
    };
    CaptureReport report_;
    std::map<FragmentKey, Pending> fragments_;
};

nlohmann::json encode(const CaptureReport& report) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& [key, tally] : report.by_key) {
        keys.push_back({{"protocol", key.protocol},
                        {"tuple", key.tuple},
                        {"wire", tally.wire},
                        {"datagrams", tally.datagrams}});
    }
    return {{"keys", keys},
            {"total", report.total},
            {"drops", report.drops},
            {"problems", report.problems}};
}

CaptureReport decode(const nlohmann::json& json) {
    CaptureReport report;
    for (const auto& item : json.at("keys")) {
        CaptureKey key{item.at("protocol").get<int>(), item.at("tuple").get<FlowTuple>()};
        report.by_key[key] = {item.at("wire").get<Traffic>(), item.at("datagrams").get<Traffic>()};
    }
    report.total = json.at("total").get<Traffic>();
    report.drops = json.at("drops").get<std::uint64_t>();
    report.problems = json.at("problems").get<std::vector<std::string>>();
    return report;
}

// A TPACKET_V2 receive ring. The kernel copies each packet's headers into it when the packet
// crosses the tap, not when the capture reads it: a plain recvfrom() reads a clone that shares
// its data with the packet, and a receiving end that reassembles IPv6 fragments in place (the
// far end of a veth running conntrack) would change what the capture sees.
class CaptureRing {
  public:
    static constexpr unsigned frame_size = 512; // ring headers + the first ~420 bytes
    static constexpr unsigned block_size = 1 << 16;

    explicit CaptureRing(int fd) {
        const int version = TPACKET_V2;
        if (::setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
            throw_errno("capture PACKET_VERSION");
        }
        tpacket_req request{};
        request.tp_block_size = block_size;
        request.tp_block_nr = capture_buffer_bytes / block_size;
        request.tp_frame_size = frame_size;
        request.tp_frame_nr = request.tp_block_nr * (block_size / frame_size);
        if (::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &request, sizeof request) != 0) {
            throw_errno("capture PACKET_RX_RING");
        }
        frames_ = request.tp_frame_nr;
        size_ = std::size_t{request.tp_block_nr} * block_size;
        void* map = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            throw_errno("capture mmap");
        }
        ring_ = static_cast<std::uint8_t*>(map);
    }
    CaptureRing(const CaptureRing&) = delete;
    CaptureRing& operator=(const CaptureRing&) = delete;
    ~CaptureRing() { ::munmap(ring_, size_); }

    // Every frame the kernel has filled, in order, handed back to it after parsing.
    void drain(Tallies& tallies) {
        for (;;) {
            auto* header = reinterpret_cast<tpacket2_hdr*>(ring_ + std::size_t{next_} * frame_size);
            if ((__atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) {
                return;
            }
            const auto* from =
                reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<const std::uint8_t*>(header) +
                                                     TPACKET_ALIGN(sizeof(tpacket2_hdr)));
            const std::uint8_t* data =
                reinterpret_cast<const std::uint8_t*>(header) + header->tp_net;
            std::optional<ParsedPacket> packet;
            if (ntohs(from->sll_protocol) == ETH_P_IP) {
                packet = parse_ipv4(data, header->tp_snaplen);
            } else if (ntohs(from->sll_protocol) == ETH_P_IPV6) {
                packet = parse_ipv6(data, header->tp_snaplen);
            }
            if (packet) {
                tallies.add(*packet);
            }
            __atomic_store_n(&header->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
            next_ = (next_ + 1) % frames_;
        }
    }

  private:
    std::uint8_t* ring_ = nullptr;
    std::size_t size_ = 0;
    unsigned frames_ = 0;
    unsigned next_ = 0;
};

void run_capture(const std::string& interface, ControlChannel& channel) {
    // Cooked (SOCK_DGRAM) packets start at the IP header; outgoing ones are delivered too.
    auto socket = open_socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
    CaptureRing ring(socket.get());
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
    if (address.sll_ifindex == 0 ||
        ::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw_errno("capture on " + interface);
    }
    channel.send("ready");
    Tallies tallies;
    for (;;) {
        pollfd events[2] = {{socket.get(), POLLIN, 0}, {channel.read_fd(), POLLIN, 0}};
        ::poll(events, 2, 1000);
        ring.drain(tallies);
        if (events[1].revents != 0) {
            break; // "finish" or the bench went away
        }
    }
    ring.drain(tallies);
    tpacket_stats statistics{};
    socklen_t length = sizeof statistics;
    ::getsockopt(socket.get(), SOL_PACKET, PACKET_STATISTICS, &statistics, &length);
    auto report = tallies.finish();
    report.drops = statistics.tp_drops;
    channel.send("report " + encode(report).dump());
}

} // namespace

CaptureTally CaptureReport::sum(int protocol, const std::vector<FlowTuple>& tuples) const {
    CaptureTally summed;
    std::vector<FlowTuple> distinct;
    for (const auto& tuple : tuples) {
        if (std::find(distinct.begin(), distinct.end(), tuple) == distinct.end()) {
            distinct.push_back(tuple);
        }
    }
    for (const auto& tuple : distinct) {
        if (const auto found = by_key.find({protocol, tuple}); found != by_key.end()) {
            summed.wire += found->second.wire;
            summed.datagrams += found->second.datagrams;
        }
    }
    return summed;
}

LinkCapture::LinkCapture(const Topology& topology, const LinkEnd& end) {
    const auto interface = end.interface;
    process_ = std::make_unique<ChildProcess>(ChildProcess::spawn(
        "capture " + end.node + "." + end.interface, topology.netns(end.node), Identity{},
        [interface](ControlChannel& channel) { run_capture(interface, channel); }));
    const auto ready = process_->channel().receive(std::chrono::seconds(5));
    if (!ready || *ready != "ready") {
        throw std::runtime_error("capture on " + end.node + "." + end.interface +
                                 " did not start: " + ready.value_or("no answer"));
    }
}

LinkCapture::LinkCapture(LinkCapture&&) noexcept = default;
LinkCapture::~LinkCapture() = default;

CaptureReport LinkCapture::finish() {
    process_->channel().send("finish");
    const auto line = process_->channel().receive(std::chrono::seconds(10));
    process_->wait(std::chrono::seconds(2));
    constexpr std::string_view tag = "report ";
    if (!line || !line->starts_with(tag)) {
        throw std::runtime_error("capture failed: " + line.value_or("no report"));
    }
    return decode(nlohmann::json::parse(line->substr(tag.size())));
}

} // namespace acctc::testbench
