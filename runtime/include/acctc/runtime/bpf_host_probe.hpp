// Whether BPF can count a policy's per-host counters and classifications here, asked before
// apply so that those it cannot count stay in nft sets and rules (docs/runtime.md, "Per-host
// counters in BPF", "Classes in BPF"): the kernel must load a TCX program and attach it to the
// device, a bpffs must be there for the pins, the device's link-layer header must be one the
// program knows, and NAT must not change what the program keys its counts by.
#pragma once

#include "acctc/bpf_class_plan.hpp"
#include "acctc/bpf_host_plan.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

// The bytes in front of the IP header where a TCX program on the device (of the calling thread's
// namespace) sees a packet: 14 on Ethernet (ARPHRD_ETHER: veth, bridges, NICs), 0 on devices
// without a link-layer header (ARPHRD_NONE: tun, WireGuard); none for other link types. Throws
// RuntimeError when there is no such device.
std::optional<unsigned> tcx_link_header(const std::string& device);

// One TCX program a planned counter or classification needs.
struct BpfProgramSite {
    std::string device;
    BpfHook hook = BpfHook::ingress;
    BpfKey key = BpfKey::source_address;
};

// A per-host counter's programs: at its hook keyed by its address, and with both directions in
// one counter the egress one.
std::vector<BpfProgramSite> bpf_program_sites(const BpfHostCounterPlan& counter);
// A classification's program, keyed by the destination port or an address.
std::vector<BpfProgramSite> bpf_program_sites(const BpfClassifyPlan& classify);

// Per user (the programs one planned counter or classification needs), in /run/netns/NETNS
// (empty: here): empty when BPF can count it, else why not (the kernel's refusal, a missing
// device, a link type the program does not know, NAT in the namespace that changes the key where
// a program sees it: egress sources, ingress destinations and destination ports). Attaches a
// program that counts nothing to each device for a moment (it passes every packet on).
std::vector<std::string> bpf_refusals(const std::string& netns,
                                      const std::vector<std::vector<BpfProgramSite>>& users);

} // namespace acctc::runtime
