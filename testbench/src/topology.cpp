#include "acctc/testbench/topology.hpp"

#include "acctc/testbench/nft.hpp"
#include "acctc/testbench/offloads.hpp"
#include "acctc/testbench/sysctl.hpp"

#include <algorithm>
#include <linux/if.h>
#include <set>
#include <stdexcept>
#include <sys/socket.h>

namespace acctc::testbench {
namespace {

std::string describe(const LinkEnd& end) {
    return end.node + "." + end.interface;
}

// Locally administered, deterministic: 02:ac:LL:LL:00:SS for link LLLL, side SS.
MacAddress link_mac(std::size_t link_number, int side) {
    return {0x02,
            0xac,
            static_cast<std::uint8_t>(link_number >> 8),
            static_cast<std::uint8_t>(link_number & 0xff),
            0x00,
            static_cast<std::uint8_t>(side)};
}

// 02:ac:bb:00:NN:00 for bridge NN: apart from every link's MAC.
MacAddress bridge_mac(std::size_t bridge_number) {
    return {0x02, 0xac, 0xbb, 0x00, static_cast<std::uint8_t>(bridge_number & 0xff), 0x00};
}

// The bridge that has `end` as a port, if any.
const BridgeSpec* bridge_with_port(const TopologySpec& spec, const LinkEnd& end) {
    for (const auto& bridge : spec.bridges) {
        if (bridge.device.node == end.node && std::find(bridge.ports.begin(), bridge.ports.end(),
                                                        end.interface) != bridge.ports.end()) {
            return &bridge;
        }
    }
    return nullptr;
}

struct SegmentEnd {
    LinkEnd end;
    MacAddress mac;
};

// The far end of the link that has `end` at one side, with its MAC.
std::optional<SegmentEnd> far_end(const TopologySpec& spec, const LinkEnd& end) {
    for (std::size_t number = 0; number < spec.links.size(); ++number) {
        const auto& link = spec.links[number];
        if (link.a == end) {
            return SegmentEnd{link.b, link_mac(number, 2)};
        }
        if (link.b == end) {
            return SegmentEnd{link.a, link_mac(number, 1)};
        }
    }
    return std::nullopt;
}

// What `end` reaches without a router: the other end of its link or, when that is a bridge
// port, the far ends of the bridge's other ports.
std::vector<SegmentEnd> segment_of(const TopologySpec& spec, const LinkEnd& end) {
    const auto other = far_end(spec, end);
    if (!other) {
        return {};
    }
    const auto* bridge = bridge_with_port(spec, other->end);
    if (bridge == nullptr) {
        return {*other};
    }
    std::vector<SegmentEnd> segment;
    for (const auto& port : bridge->ports) {
        if (port == other->end.interface) {
            continue;
        }
        if (auto reached = far_end(spec, {bridge->device.node, port})) {
            segment.push_back(*reached);
        }
    }
    return segment;
}

bool has_ipv6(const TopologySpec& spec, const LinkEnd& end) {
    return std::any_of(spec.addresses.begin(), spec.addresses.end(), [&](const AddressSpec& a) {
        return a.at == end && !a.prefix.address.is_v4();
    });
}

// Quiet, predictable stacks: no duplicate address detection, no link-local addresses (so no
// router solicitations), MLD reports repeated within a millisecond of joining instead of up
// to a second later (net.ipv6.mld_qrv is not per namespace), no reverse path filter on
// routed test links, ICMP ping sockets for every group.
void configure_namespace_defaults(const NamedNetns& netns, const NodeSpec& node) {
    write_sysctl(netns, "net/ipv4/conf/all/rp_filter", "0");
    write_sysctl(netns, "net/ipv4/conf/default/rp_filter", "0");
    write_sysctl(netns, "net/ipv4/ping_group_range", "0 2147483647");
    // A router on a stick would redirect the sender to the next hop on the same segment:
    // an extra packet at its output hook, and the next packets bypass it. (IPv6 sends
    // redirects from a link-local source only, and there is none.)
    write_sysctl(netns, "net/ipv4/conf/all/send_redirects", "0");
    write_sysctl(netns, "net/ipv4/conf/default/send_redirects", "0");
    for (const char* scope : {"all", "default"}) {
        const std::string base = std::string("net/ipv6/conf/") + scope + "/";
        write_sysctl(netns, base + "accept_dad", "0");
        write_sysctl(netns, base + "accept_ra", "0");
        write_sysctl(netns, base + "addr_gen_mode", "1");
        write_sysctl(netns, base + "mldv1_unsolicited_report_interval", "1");
        write_sysctl(netns, base + "mldv2_unsolicited_report_interval", "1");
    }
    // Plain TCP headers (20 bytes, MSS only on SYNs): peers can then turn TCP_INFO's segment
    // counts into exact L3 bytes.
    write_sysctl(netns, "net/ipv4/tcp_timestamps", "0");
    write_sysctl(netns, "net/ipv4/tcp_sack", "0");
    write_sysctl(netns, "net/ipv4/tcp_window_scaling", "0");
    // TCP always builds GSO packets: small writes queued behind an unfinished transmit would
    // be corked into one packet that the output hook counts once but leaves as several.
    write_sysctl(netns, "net/ipv4/tcp_autocorking", "0");
    const std::string forwarding = node.forwarding ? "1" : "0";
    write_sysctl(netns, "net/ipv4/ip_forward", forwarding);
    write_sysctl(netns, "net/ipv6/conf/all/forwarding", forwarding);
}

// MLD reports and router solicitations that the kernel sends by itself when a link with IPv6
// addresses comes up. There is no sysctl that stops MLD (solicited-node groups are joined for
// every address on a device that does ARP/ND), and the reports are not deterministic: they
// are sent again from a timer once linkwatch has attached the qdisc, which may be after the
// policy is loaded. A local `out` counter then counts them, and a passive counter sees the
// neighbour's. So every node drops them at its output hook, before any counting table (its
// priority runs first), from before the links exist: they never reach a wire or a counter.
constexpr const char* quiet_ruleset = R"(table inet tb_quiet {
    chain output {
        type filter hook output priority -1000; policy accept;
        icmpv6 type { mld-listener-report, mld2-listener-report, mld-listener-done, nd-router-solicit } drop
    }
}
)";

} // namespace

std::vector<std::string> TopologySpec::problems() const {
    std::vector<std::string> found;
    std::set<std::string> node_names;
    for (const auto& node : nodes) {
        if (!node_names.insert(node.name).second) {
            found.push_back("node " + node.name + " is declared twice");
        }
        if (node.name.empty() || node.name.size() > 40 ||
            node.name.find_first_of("/ \t") != std::string::npos) {
            found.push_back("node name '" + node.name + "' must be 1-40 characters, no '/'");
        }
    }
    std::set<LinkEnd> ends;
    auto check_end = [&](const LinkEnd& end) {
        if (node_names.count(end.node) == 0) {
            found.push_back("unknown node " + end.node + " in " + describe(end));
        }
        if (end.interface.empty() || end.interface.size() >= IFNAMSIZ || end.interface == "lo") {
            found.push_back("interface name '" + end.interface + "' must have 1 to " +
                            std::to_string(IFNAMSIZ - 1) + " characters and not be lo");
        }
    };
    for (const auto& link : links) {
        for (const auto* end : {&link.a, &link.b}) {
            check_end(*end);
            if (!ends.insert(*end).second) {
                found.push_back("interface " + describe(*end) + " is used twice");
            }
        }
        if (link.mtu < 1280 || link.mtu > 65535) {
            found.push_back("mtu " + std::to_string(link.mtu) + " on " + describe(link.a) +
                            " is outside 1280..65535");
        }
    }
    std::set<LinkEnd> devices;
    std::set<LinkEnd> ports;
    for (const auto& bridge : bridges) {
        check_end(bridge.device);
        if (ends.count(bridge.device) != 0 || !devices.insert(bridge.device).second) {
            found.push_back("bridge " + describe(bridge.device) +
                            " is declared twice or is a link end");
        }
        for (const auto& port : bridge.ports) {
            const LinkEnd end{bridge.device.node, port};
            if (ends.count(end) == 0) {
                found.push_back("bridge port " + describe(end) + " is no link end");
            }
            if (!ports.insert(end).second) {
                found.push_back("bridge port " + describe(end) + " is used twice");
            }
        }
    }
    for (const auto& address : addresses) {
        if (ports.count(address.at) != 0) {
            found.push_back("address " + address.prefix.to_string() + " on " +
                            describe(address.at) + ", which is a bridge port");
        }
        if (ends.count(address.at) == 0) {
            found.push_back("address " + address.prefix.to_string() + " on " +
                            describe(address.at) + ", which is no link end");
        }
        if (!is_test_address(address.prefix.address)) {
            found.push_back("address " + address.prefix.to_string() +
                            " is outside 198.18.0.0/15 and 2001:db8::/32");
        }
    }
    for (const auto& route : routes) {
        if (node_names.count(route.node) == 0) {
            found.push_back("route on unknown node " + route.node);
        }
        if (route.destination.length != 0 && !is_test_prefix(route.destination)) {
            found.push_back("route to " + route.destination.to_string() +
                            " is outside the test ranges");
        }
        if (route.gateway && !is_test_address(*route.gateway)) {
            found.push_back("gateway " + route.gateway->to_string() +
                            " is outside the test ranges");
        }
        if (route.gateway && route.gateway->family != route.destination.address.family) {
            found.push_back("route to " + route.destination.to_string() +
                            " has a gateway of the other family");
        }
    }
    return found;
}

Topology::Topology(const TopologySpec& spec, const RunPrefix& prefix) : spec_(spec) {
    if (auto problems = spec.problems(); !problems.empty()) {
        throw std::invalid_argument("topology: " + problems.front());
    }
    std::map<std::string, RtnlSocket> rtnl;
    for (const auto& node : spec.nodes) {
        auto& netns = namespaces_.emplace(node.name, NamedNetns::create(prefix.text() + node.name))
                          .first->second;
        configure_namespace_defaults(netns, node);
        load_ruleset(netns, quiet_ruleset);
        ScopedNetns inside(netns);
        auto& socket = rtnl.emplace(node.name, RtnlSocket()).first->second;
        // A new namespace starts with loopback down; self-talk over lo needs it up.
        set_link_up(socket, link_index(socket, "lo"));
    }
    for (const auto& node : spec.nodes) {
        disable_offloads(netns(node.name), "lo");
    }
    for (std::size_t number = 0; number < spec.links.size(); ++number) {
        const auto& link = spec.links[number];
        create_veth(rtnl.at(link.a.node), link.a.interface, link_mac(number, 1), link.b.interface,
                    link_mac(number, 2), netns(link.b.node).fd());
        for (const auto* end : {&link.a, &link.b}) {
            auto& socket = rtnl.at(end->node);
            const auto& ns = netns(end->node);
            const int index = link_index(socket, end->interface);
            set_link_mtu(socket, index, link.mtu);
            if (std::find(spec.card_offloads.begin(), spec.card_offloads.end(), *end) !=
                spec.card_offloads.end()) {
                card_offloads(ns, end->interface);
            } else {
                disable_offloads(ns, end->interface);
            }
            write_sysctl(ns, "net/ipv4/conf/" + end->interface + "/rp_filter", "0");
            if (!has_ipv6(spec, *end)) {
                write_sysctl(ns, "net/ipv6/conf/" + end->interface + "/disable_ipv6", "1");
            }
        }
    }
    for (std::size_t number = 0; number < spec.bridges.size(); ++number) {
        const auto& bridge = spec.bridges[number];
        auto& socket = rtnl.at(bridge.device.node);
        create_bridge(socket, bridge.device.interface, bridge_mac(number));
        write_sysctl(netns(bridge.device.node),
                     "net/ipv6/conf/" + bridge.device.interface + "/disable_ipv6", "1");
        const int index = link_index(socket, bridge.device.interface);
        for (const auto& port : bridge.ports) {
            const int port_index = link_index(socket, port);
            set_link_master(socket, port_index, index);
            add_bridge_fdb(socket, port_index, far_end(spec, {bridge.device.node, port})->mac);
        }
        set_link_up(socket, index);
    }
    for (const auto& address : spec.addresses) {
        auto& socket = rtnl.at(address.at.node);
        add_address(socket, link_index(socket, address.at.interface), address.prefix);
    }
    for (const auto& link : spec.links) {
        for (const auto* self : {&link.a, &link.b}) {
            auto& socket = rtnl.at(self->node);
            const int index = link_index(socket, self->interface);
            set_link_up(socket, index);
            if (bridge_with_port(spec, *self) != nullptr) {
                continue; // a switch port: no IP, no neighbours
            }
            for (const auto& other : segment_of(spec, *self)) {
                for (const auto& address : spec.addresses) {
                    if (address.at == other.end) {
                        add_neighbour(socket, index, address.prefix.address, other.mac);
                    }
                }
            }
        }
    }
    for (const auto& link : spec.links) {
        for (const auto* end : {&link.a, &link.b}) {
            auto& socket = rtnl.at(end->node);
            wait_link_ready(socket, link_index(socket, end->interface), std::chrono::seconds(5));
        }
    }
    for (const auto& bridge : spec.bridges) {
        auto& socket = rtnl.at(bridge.device.node);
        wait_link_ready(socket, link_index(socket, bridge.device.interface),
                        std::chrono::seconds(5));
    }
    for (const auto& address : spec.addresses) {
        wait_address_local(rtnl.at(address.at.node), address.prefix.address,
                           std::chrono::seconds(5));
    }
    for (const auto& route : spec.routes) {
        add_route(rtnl.at(route.node), Route{route.destination, route.gateway, std::nullopt});
    }
}

const NamedNetns& Topology::netns(const std::string& node) const {
    const auto found = namespaces_.find(node);
    if (found == namespaces_.end()) {
        throw std::out_of_range("no node named " + node);
    }
    return found->second;
}

std::vector<IpAddress> Topology::addresses_of(const std::string& node) const {
    std::vector<IpAddress> result;
    for (const auto& address : spec_.addresses) {
        if (address.at.node == node) {
            result.push_back(address.prefix.address);
        }
    }
    return result;
}

void Topology::renumber(const LinkEnd& end, const IpPrefix& from, const IpPrefix& to) {
    const auto found =
        std::find_if(spec_.addresses.begin(), spec_.addresses.end(),
                     [&](const AddressSpec& a) { return a.at == end && a.prefix == from; });
    if (found == spec_.addresses.end()) {
        throw std::invalid_argument("renumber: " + describe(end) + " has no address " +
                                    from.to_string());
    }
    const NamedNetns& own = netns(end.node);
    // Deleting the primary IPv4 address of a subnet deletes its secondaries and the routes
    // through it, unless the next one is promoted: the new one, added just before.
    write_sysctl(own, "net/ipv4/conf/" + end.interface + "/promote_secondaries", "1");
    {
        ScopedNetns inside(own);
        RtnlSocket socket;
        const int index = link_index(socket, end.interface);
        add_address(socket, index, to);
        delete_address(socket, index, from);
        wait_address_local(socket, to.address, std::chrono::seconds(5));
    }
    found->prefix = to;
    const auto far = far_end(spec_, end);
    const auto self = far ? far_end(spec_, far->end) : std::nullopt;
    for (const auto& other : segment_of(spec_, end)) {
        if (!self || bridge_with_port(spec_, other.end) != nullptr) {
            continue;
        }
        ScopedNetns inside(netns(other.end.node));
        RtnlSocket socket;
        add_neighbour(socket, link_index(socket, other.end.interface), to.address, self->mac);
    }
}

unsigned Topology::mtu_of(const LinkEnd& end) const {
    for (const auto& link : spec_.links) {
        if (link.a == end || link.b == end) {
            return link.mtu;
        }
    }
    return 1500;
}

} // namespace acctc::testbench
