// Independent capture: an AF_PACKET socket on one link, in a process inside the link's
// namespace, tallying every IPv4/IPv6 packet by protocol and address/port tuple. It sees the
// wire (fragments, segments after GSO) and also rebuilds the datagram view that a hook sees
// when the stack reassembles first.
#pragma once

#include "acctc/testbench/flow.hpp"
#include "acctc/testbench/topology.hpp"

#include <map>
#include <memory>
#include <optional>

namespace acctc::testbench {

struct CaptureKey {
    int protocol = 0; // IPPROTO_*
    FlowTuple tuple;  // ICMP echo: request id as source port, reply id as destination port
    auto operator<=>(const CaptureKey&) const = default;
};

struct CaptureTally {
    Traffic wire;      // every packet as it crossed the link
    Traffic datagrams; // fragments merged into the datagram they belong to
};

struct CaptureReport {
    std::map<CaptureKey, CaptureTally> by_key;
    Traffic total;           // all IP packets, wire view
    std::uint64_t drops = 0; // packets the socket could not keep (then the capture is void)
    std::vector<std::string> problems;

    // Sum over keys for `protocol` whose tuple is one of `tuples`.
    CaptureTally sum(int protocol, const std::vector<FlowTuple>& tuples) const;
};

class LinkCapture {
  public:
    // Starts capturing on `end` and returns once the socket is bound.
    LinkCapture(const Topology& topology, const LinkEnd& end);
    LinkCapture(LinkCapture&&) noexcept;
    ~LinkCapture();
    // Stops and collects the tallies.
    CaptureReport finish();

  private:
    std::unique_ptr<ChildProcess> process_;
};

} // namespace acctc::testbench
