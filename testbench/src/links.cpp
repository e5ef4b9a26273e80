#include "acctc/testbench/links.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <thread>

namespace acctc::testbench {
namespace {

ifinfomsg* put_ifinfo(nlmsghdr* header, int index) {
    auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifinfomsg)));
    info->ifi_family = AF_UNSPEC;
    info->ifi_index = index;
    return info;
}

void require_name(const std::string& name) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        throw std::invalid_argument("interface name '" + name + "' must have 1 to " +
                                    std::to_string(IFNAMSIZ - 1) + " characters");
    }
}

struct LinkReadiness {
    bool operational = false;
    bool queue_attached = false;
};

int note_readiness(const nlattr* attribute, void* data) {
    auto& readiness = *static_cast<LinkReadiness*>(data);
    const auto type = mnl_attr_get_type(attribute);
    if (type == IFLA_OPERSTATE && mnl_attr_validate(attribute, MNL_TYPE_U8) >= 0) {
        readiness.operational = mnl_attr_get_u8(attribute) == IF_OPER_UP;
    } else if (type == IFLA_QDISC && mnl_attr_validate(attribute, MNL_TYPE_STRING) >= 0) {
        readiness.queue_attached = std::string_view(mnl_attr_get_str(attribute)) != "noop";
    }
    return MNL_CB_OK;
}

} // namespace

int link_index(RtnlSocket& rtnl, const std::string& name) {
    require_name(name);
    auto* header = rtnl.start(RTM_GETLINK, 0);
    put_ifinfo(header, 0);
    mnl_attr_put_strz(header, IFLA_IFNAME, name.c_str());
    int index = 0;
    rtnl.execute("look up link " + name, [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type == RTM_NEWLINK) {
            index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(reply))->ifi_index;
        }
    });
    if (index == 0) {
        throw std::runtime_error("no link named " + name);
    }
    return index;
}

namespace {

// An RTM_NEWLINK request creating `name` of `kind`, open at IFLA_INFO_DATA for the kind's
// attributes; finish() closes the nests.
struct NewLink {
    nlmsghdr* header;
    nlattr* link_info;
    nlattr* info_data;
    void finish() const {
        mnl_attr_nest_end(header, info_data);
        mnl_attr_nest_end(header, link_info);
    }
};

NewLink start_new_link(RtnlSocket& rtnl, const std::string& name, const MacAddress& mac,
                       const char* kind) {
    require_name(name);
    auto* header = rtnl.start(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    put_ifinfo(header, 0);
    mnl_attr_put_strz(header, IFLA_IFNAME, name.c_str());
    mnl_attr_put(header, IFLA_ADDRESS, mac.size(), mac.data());
    auto* link_info = mnl_attr_nest_start(header, IFLA_LINKINFO);
    mnl_attr_put_strz(header, IFLA_INFO_KIND, kind);
    return {header, link_info, mnl_attr_nest_start(header, IFLA_INFO_DATA)};
}

} // namespace

void create_veth(RtnlSocket& rtnl, const std::string& name, const MacAddress& mac,
                 const std::string& peer_name, const MacAddress& peer_mac, int peer_netns_fd) {
    require_name(peer_name);
    const auto link = start_new_link(rtnl, name, mac, "veth");
    auto* header = link.header;
    // VETH_INFO_PEER carries a whole ifinfomsg followed by the peer's own attributes.
    auto* peer = mnl_attr_nest_start(header, VETH_INFO_PEER);
    put_ifinfo(header, 0);
    mnl_attr_put_strz(header, IFLA_IFNAME, peer_name.c_str());
    mnl_attr_put(header, IFLA_ADDRESS, peer_mac.size(), peer_mac.data());
    mnl_attr_put_u32(header, IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_netns_fd));
    mnl_attr_nest_end(header, peer);
    link.finish();
    rtnl.execute("create veth " + name + " <-> " + peer_name);
}

void create_bridge(RtnlSocket& rtnl, const std::string& name, const MacAddress& mac) {
    const auto link = start_new_link(rtnl, name, mac, "bridge");
    mnl_attr_put_u32(link.header, IFLA_BR_STP_STATE, 0);
    mnl_attr_put_u32(link.header, IFLA_BR_FORWARD_DELAY, 0);
    mnl_attr_put_u8(link.header, IFLA_BR_MCAST_SNOOPING, 0);
    link.finish();
    rtnl.execute("create bridge " + name);
}

void set_link_master(RtnlSocket& rtnl, int index, int master_index) {
    auto* header = rtnl.start(RTM_NEWLINK, 0);
    put_ifinfo(header, index);
    mnl_attr_put_u32(header, IFLA_MASTER, static_cast<std::uint32_t>(master_index));
    rtnl.execute("attach link " + std::to_string(index) + " to bridge " +
                 std::to_string(master_index));
}

void add_bridge_fdb(RtnlSocket& rtnl, int port_index, const MacAddress& mac) {
    auto* header = rtnl.start(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
    auto* message = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ndmsg)));
    message->ndm_family = AF_BRIDGE;
    message->ndm_ifindex = port_index;
    // NUD_NOARP is `bridge fdb ... static`; NUD_PERMANENT would make the MAC the bridge's own.
    message->ndm_state = NUD_NOARP;
    message->ndm_flags = NTF_MASTER;
    mnl_attr_put(header, NDA_LLADDR, mac.size(), mac.data());
    rtnl.execute("add forwarding entry on port " + std::to_string(port_index));
}

void move_link_to_netns(RtnlSocket& rtnl, int index, int netns_fd) {
    auto* header = rtnl.start(RTM_NEWLINK, 0);
    put_ifinfo(header, index);
    mnl_attr_put_u32(header, IFLA_NET_NS_FD, static_cast<std::uint32_t>(netns_fd));
    rtnl.execute("move link " + std::to_string(index) + " to another namespace");
}

void set_link_up(RtnlSocket& rtnl, int index) {
    auto* header = rtnl.start(RTM_NEWLINK, 0);
    auto* info = put_ifinfo(header, index);
    info->ifi_flags = IFF_UP;
    info->ifi_change = IFF_UP;
    rtnl.execute("set link " + std::to_string(index) + " up");
}

void wait_link_ready(RtnlSocket& rtnl, int index, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        bool ready = false;
        auto* header = rtnl.start(RTM_GETLINK, 0);
        put_ifinfo(header, index);
        rtnl.execute("query link " + std::to_string(index), [&](const nlmsghdr* reply) {
            LinkReadiness readiness;
            mnl_attr_parse(reply, sizeof(ifinfomsg), note_readiness, &readiness);
            ready = readiness.operational && readiness.queue_attached;
        });
        if (ready) {
            return;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("link " + std::to_string(index) + " did not come up");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void set_link_mtu(RtnlSocket& rtnl, int index, unsigned mtu) {
    auto* header = rtnl.start(RTM_NEWLINK, 0);
    put_ifinfo(header, index);
    mnl_attr_put_u32(header, IFLA_MTU, mtu);
    rtnl.execute("set mtu " + std::to_string(mtu) + " on link " + std::to_string(index));
}

void add_address(RtnlSocket& rtnl, int index, const IpPrefix& prefix) {
    require_test_address(prefix.address, "address");
    auto* header = rtnl.start(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    auto* message = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifaddrmsg)));
    message->ifa_family = static_cast<unsigned char>(prefix.address.family);
    message->ifa_prefixlen = static_cast<unsigned char>(prefix.length);
    message->ifa_flags = IFA_F_NODAD;
    message->ifa_scope = RT_SCOPE_UNIVERSE;
    message->ifa_index = static_cast<unsigned>(index);
    const auto size = prefix.address.size();
    mnl_attr_put(header, IFA_LOCAL, size, prefix.address.bytes.data());
    mnl_attr_put(header, IFA_ADDRESS, size, prefix.address.bytes.data());
    mnl_attr_put_u32(header, IFA_FLAGS, IFA_F_NODAD);
    rtnl.execute("add address " + prefix.to_string());
}

void delete_address(RtnlSocket& rtnl, int index, const IpPrefix& prefix) {
    auto* header = rtnl.start(RTM_DELADDR, 0);
    auto* message = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifaddrmsg)));
    message->ifa_family = static_cast<unsigned char>(prefix.address.family);
    message->ifa_prefixlen = static_cast<unsigned char>(prefix.length);
    message->ifa_index = static_cast<unsigned>(index);
    mnl_attr_put(header, IFA_LOCAL, prefix.address.size(), prefix.address.bytes.data());
    rtnl.execute("delete address " + prefix.to_string());
}

void add_route(RtnlSocket& rtnl, const Route& route) {
    const auto& destination = route.destination.address;
    if (route.destination.length != 0) {
        require_test_address(destination, "route destination");
    }
    if (route.gateway) {
        require_test_address(*route.gateway, "route gateway");
    }
    auto* header = rtnl.start(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    auto* message = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
    message->rtm_family = static_cast<unsigned char>(destination.family);
    message->rtm_dst_len = static_cast<unsigned char>(route.destination.length);
    message->rtm_table = RT_TABLE_MAIN;
    message->rtm_protocol = RTPROT_STATIC;
    message->rtm_scope = route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    message->rtm_type = RTN_UNICAST;
    if (route.destination.length != 0) {
        mnl_attr_put(header, RTA_DST, destination.size(), destination.bytes.data());
    }
    if (route.gateway) {
        mnl_attr_put(header, RTA_GATEWAY, route.gateway->size(), route.gateway->bytes.data());
    }
    if (route.output_index) {
        mnl_attr_put_u32(header, RTA_OIF, static_cast<std::uint32_t>(*route.output_index));
    }
    rtnl.execute("add route " + route.destination.to_string() +
                 (route.gateway ? " via " + route.gateway->to_string() : std::string()));
}

void wait_address_local(RtnlSocket& rtnl, const IpAddress& address,
                        std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto* header = rtnl.start(RTM_GETROUTE, 0);
        auto* message = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
        message->rtm_family = static_cast<unsigned char>(address.family);
        message->rtm_dst_len = static_cast<unsigned char>(address.size() * 8);
        mnl_attr_put(header, RTA_DST, address.size(), address.bytes.data());
        bool local = false;
        try {
            rtnl.execute("look up route to " + address.to_string(), [&](const nlmsghdr* reply) {
                if (reply->nlmsg_type == RTM_NEWROUTE) {
                    local = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(reply))->rtm_type ==
                            RTN_LOCAL;
                }
            });
        } catch (const std::system_error&) {
            // ENETUNREACH and friends: not routed yet.
        }
        if (local) {
            return;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("address " + address.to_string() + " did not become local");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void add_neighbour(RtnlSocket& rtnl, int index, const IpAddress& address, const MacAddress& mac) {
    auto* header = rtnl.start(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
    auto* message = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ndmsg)));
    message->ndm_family = static_cast<unsigned char>(address.family);
    message->ndm_ifindex = index;
    message->ndm_state = NUD_PERMANENT;
    message->ndm_type = RTN_UNICAST;
    mnl_attr_put(header, NDA_DST, address.size(), address.bytes.data());
    mnl_attr_put(header, NDA_LLADDR, mac.size(), mac.data());
    rtnl.execute("add neighbour " + address.to_string());
}

} // namespace acctc::testbench
