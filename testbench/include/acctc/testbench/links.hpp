// rtnetlink operations on links, addresses, routes and neighbours of one namespace: the
// RtnlSocket passed in decides which (it was opened inside it). Nothing here knows the root
// namespace; the topology only ever opens sockets inside namespaces it created.
#pragma once

#include "acctc/testbench/ip_address.hpp"
#include "acctc/testbench/rtnetlink.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace acctc::testbench {

using MacAddress = std::array<std::uint8_t, 6>;

// Interface index by name; throws when there is no such link.
int link_index(RtnlSocket& rtnl, const std::string& name);

// A veth pair: `name` stays in the socket's namespace, `peer_name` is created directly in
// the namespace of `peer_netns_fd`, so neither end ever exists anywhere else.
void create_veth(RtnlSocket& rtnl, const std::string& name, const MacAddress& mac,
                 const std::string& peer_name, const MacAddress& peer_mac, int peer_netns_fd);

// A bridge without STP, forwarding delay or multicast snooping: ports forward as soon as
// they are up and the bridge itself sends nothing (a plain switch for routers on a stick).
void create_bridge(RtnlSocket& rtnl, const std::string& name, const MacAddress& mac);
void set_link_master(RtnlSocket& rtnl, int index, int master_index);
// A static forwarding entry: frames to `mac` leave through that port only. Without it the
// bridge floods until it has learnt the MAC, and hosts on other ports (and their captures)
// see copies of frames addressed to someone else.
void add_bridge_fdb(RtnlSocket& rtnl, int port_index, const MacAddress& mac);

void move_link_to_netns(RtnlSocket& rtnl, int index, int netns_fd);
void set_link_up(RtnlSocket& rtnl, int index);
// Polls until the link is operationally up and its queueing discipline is attached. Until
// linkwatch (asynchronous, up to a second after carrier) has run, a veth drops what is sent.
void wait_link_ready(RtnlSocket& rtnl, int index, std::chrono::milliseconds timeout);
void set_link_mtu(RtnlSocket& rtnl, int index, unsigned mtu);

// Added without duplicate address detection (IFA_F_NODAD), usable at once.
void add_address(RtnlSocket& rtnl, int index, const IpPrefix& prefix);
void delete_address(RtnlSocket& rtnl, int index, const IpPrefix& prefix);

struct Route {
    IpPrefix destination;             // length 0 for the default route
    std::optional<IpAddress> gateway; // on-link when absent
    std::optional<int> output_index;
};
void add_route(RtnlSocket& rtnl, const Route& route);

// Polls until the namespace routes `address` to itself. IPv6 installs an address's local
// route from a workqueue after (skipped) DAD, so packets to a fresh address may be lost.
void wait_address_local(RtnlSocket& rtnl, const IpAddress& address,
                        std::chrono::milliseconds timeout);

// A permanent neighbour entry: no ARP or neighbour discovery packets ever appear, so the
// only packets on a link are the ones a scenario sends.
void add_neighbour(RtnlSocket& rtnl, int index, const IpAddress& address, const MacAddress& mac);

} // namespace acctc::testbench
