// A test network: one named namespace per node, veth links between them (bridges where
// several ends share a segment), addresses, static neighbours, routes and the sysctls a clean
// test needs. Built only through rtnetlink sockets opened inside the node namespaces;
// destroyed with the object.
#pragma once

#include "acctc/testbench/ip_address.hpp"
#include "acctc/testbench/links.hpp"
#include "acctc/testbench/netns.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace acctc::testbench {

struct NodeSpec {
    std::string name;
    bool forwarding = false; // a router: IPv4 and IPv6 forwarding on
};

struct LinkEnd {
    std::string node;
    std::string interface;
    auto operator<=>(const LinkEnd&) const = default;
};

struct LinkSpec {
    LinkEnd a;
    LinkEnd b;
    unsigned mtu = 1500;
};

// A bridge in `device.node` joining link ends of that node: the far ends of its ports share
// one segment (several hosts and a router on one interface).
struct BridgeSpec {
    LinkEnd device;
    std::vector<std::string> ports;
};

struct AddressSpec {
    LinkEnd at;
    IpPrefix prefix;
};

struct RouteSpec {
    std::string node;
    IpPrefix destination; // length 0: default route of that family
    std::optional<IpAddress> gateway;
};

struct TopologySpec {
    std::vector<NodeSpec> nodes;
    std::vector<LinkSpec> links;
    std::vector<BridgeSpec> bridges;
    std::vector<AddressSpec> addresses;
    std::vector<RouteSpec> routes;
    // Link ends set up as a real card's: GSO and GRO on (TSO off: a veth would carry a TSO
    // packet whole, where a card cuts it into segments on the wire). Others have all off.
    std::vector<LinkEnd> card_offloads;

    // Empty when consistent, else what is wrong (unknown node, duplicate interface,
    // address outside the test ranges, name too long...).
    std::vector<std::string> problems() const;
};

class Topology {
  public:
    // Creates namespaces "<prefix><node>" and everything in `spec`; on failure whatever
    // was made is removed again before the exception leaves.
    Topology(const TopologySpec& spec, const RunPrefix& prefix);
    Topology(Topology&&) = default;
    ~Topology() = default;

    const TopologySpec& spec() const { return spec_; }
    const NamedNetns& netns(const std::string& node) const;
    bool has_node(const std::string& node) const { return namespaces_.count(node) != 0; }
    // Addresses configured on a node, all interfaces.
    std::vector<IpAddress> addresses_of(const std::string& node) const;
    // The MTU configured on an interface (1500 when not a link end: loopback excluded).
    unsigned mtu_of(const LinkEnd& end) const;
    // Moves an interface from one address to another, as a DHCP client given a new lease
    // does: the new address is added, the old one deleted, routes through the interface stay,
    // and the nodes on its segment know the new address's MAC (as they knew the old one's).
    void renumber(const LinkEnd& end, const IpPrefix& from, const IpPrefix& to);

  private:
    TopologySpec spec_;
    std::map<std::string, NamedNetns> namespaces_;
};

} // namespace acctc::testbench
