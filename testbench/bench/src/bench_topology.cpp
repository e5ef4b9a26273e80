#include "acctc/bench/bench_topology.hpp"

#include "acctc/runtime/nft_context.hpp"
#include "acctc/testbench/links.hpp"

#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdexcept>

namespace acctc::bench {
namespace {

using testbench::IpAddress;
using testbench::IpPrefix;

IpPrefix prefix(const char* text) {
    return *IpPrefix::parse(text);
}
IpAddress address(const char* text) {
    return *IpAddress::parse(text);
}

testbench::TopologySpec bench_spec() {
    testbench::TopologySpec spec;
    spec.nodes = {{BenchTopology::sender, false},
                  {BenchTopology::router, true},
                  {BenchTopology::sink, false}};
    spec.links = {{{BenchTopology::sender, "up0"}, {BenchTopology::router, "wan0"}, 1500},
                  {{BenchTopology::router, "lan0"}, {BenchTopology::sink, "down0"}, 1500}};
    spec.addresses = {{{BenchTopology::sender, "up0"}, prefix("198.18.0.2/24")},
                      {{BenchTopology::router, "wan0"}, prefix("198.18.0.1/24")},
                      {{BenchTopology::router, "lan0"}, prefix("198.18.1.1/24")},
                      {{BenchTopology::sink, "down0"}, prefix("198.18.1.2/24")},
                      {{BenchTopology::sender, "up0"}, prefix("2001:db8::2/64")},
                      {{BenchTopology::router, "wan0"}, prefix("2001:db8::1/64")},
                      {{BenchTopology::router, "lan0"}, prefix("2001:db8:1::1/64")},
                      {{BenchTopology::sink, "down0"}, prefix("2001:db8:1::2/64")}};
    spec.routes = {{BenchTopology::sender, prefix("198.18.3.0/24"), address("198.18.0.1")},
                   {BenchTopology::router, prefix("198.18.3.0/24"), address("198.18.1.99")},
                   {BenchTopology::sender, prefix("2001:db8:3::/64"), address("2001:db8::1")},
                   {BenchTopology::router, prefix("2001:db8:3::/64"), address("2001:db8:1::99")}};
    return spec;
}

int note_tx_packets(const nlattr* attribute, void* data) {
    if (mnl_attr_get_type(attribute) == IFLA_STATS64 &&
        mnl_attr_get_payload_len(attribute) >= sizeof(rtnl_link_stats64)) {
        rtnl_link_stats64 stats{};
        std::memcpy(&stats, mnl_attr_get_payload(attribute), sizeof stats);
        *static_cast<std::uint64_t*>(data) = stats.tx_packets;
    }
    return MNL_CB_OK;
}

} // namespace

BenchTopology::BenchTopology(const testbench::RunPrefix& run_prefix)
    : topology_(bench_spec(), run_prefix), addressing_{
                                               "wan0", address("198.18.0.2"), address("198.18.3.1"),
                                               address("2001:db8::2"), address("2001:db8:3::1")} {
    testbench::ScopedNetns inside(topology_.netns(router));
    router_rtnl_ = std::make_unique<testbench::RtnlSocket>();
    egress_index_ = testbench::link_index(*router_rtnl_, "lan0");
    // The next hop for 198.18.3.0/24 and 2001:db8:3::/64: a locally administered MAC that no
    // interface has.
    testbench::add_neighbour(*router_rtnl_, egress_index_, address("198.18.1.99"),
                             {0x02, 0xac, 0xff, 0xff, 0x00, 0x99});
    testbench::add_neighbour(*router_rtnl_, egress_index_, address("2001:db8:1::99"),
                             {0x02, 0xac, 0xff, 0xff, 0x00, 0x99});
}

const testbench::NamedNetns& BenchTopology::netns(const std::string& node) const {
    return topology_.netns(node);
}

std::uint64_t BenchTopology::forwarded_packets() {
    auto* header = router_rtnl_->start(RTM_GETLINK, 0);
    auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifinfomsg)));
    info->ifi_family = AF_UNSPEC;
    info->ifi_index = egress_index_;
    std::uint64_t packets = 0;
    bool seen = false;
    router_rtnl_->execute("read router egress statistics", [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type == RTM_NEWLINK) {
            mnl_attr_parse(reply, sizeof(ifinfomsg), note_tx_packets, &packets);
            seen = true;
        }
    });
    if (!seen) {
        throw std::runtime_error("router egress link has no statistics");
    }
    return packets;
}

void BenchTopology::nft(const std::string& node, const std::string& commands) const {
    testbench::ScopedNetns inside(topology_.netns(node));
    runtime::NftContext context;
    const auto result = context.run(commands);
    if (!result.ok) {
        throw std::runtime_error("nft in " + node + ": " + result.errors);
    }
}

} // namespace acctc::bench
