// The throughput topology: sender --veth-- router --veth-- sink, in namespaces of this run.
// The router forwards everything to a next hop whose MAC nobody owns, so the sink's stack
// drops each frame at once (PACKET_OTHERHOST): no replies, no ICMP errors, no sockets to
// fill, and the router's egress counter says exactly how many packets crossed its hooks.
#pragma once

#include "acctc/bench/bench_policy.hpp"
#include "acctc/testbench/netns.hpp"
#include "acctc/testbench/rtnetlink.hpp"
#include "acctc/testbench/topology.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace acctc::bench {

class BenchTopology {
  public:
    static constexpr const char* sender = "sender";
    static constexpr const char* router = "router";
    static constexpr const char* sink = "sink";

    explicit BenchTopology(const testbench::RunPrefix& prefix);

    const testbench::NamedNetns& netns(const std::string& node) const;
    const BenchAddressing& addressing() const { return addressing_; }
    // Packets the router has sent out of its egress link so far.
    std::uint64_t forwarded_packets();
    // Runs nft commands (text as `nft -f` reads it) inside a node's namespace.
    void nft(const std::string& node, const std::string& commands) const;

  private:
    testbench::Topology topology_;
    BenchAddressing addressing_;
    std::unique_ptr<testbench::RtnlSocket> router_rtnl_;
    int egress_index_ = 0;
};

} // namespace acctc::bench
