// Whether BPF can count a policy's per-host counters here, asked before apply so that the
// counters it cannot count stay in nft sets (docs/runtime.md, "Per-host counters in BPF"):
// the kernel must load a TCX program and attach it to the counter's device, a bpffs must be
// there (or mountable) for the pins, and the device's link-layer header must be one the
// program knows.
#pragma once

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

// Per planned counter, in /run/netns/NETNS (empty: here): empty when BPF can count it, else why
// not (the kernel's refusal, a missing device, a link type the program does not know, NAT in
// the namespace that changes the address the counter is keyed by where the program sees it:
// egress sources, ingress destinations). Attaches
// a program that counts nothing to each device for a moment (it passes every packet on).
std::vector<std::string> bpf_host_refusals(const std::string& netns,
                                           const std::vector<BpfHostCounterPlan>& plan);

} // namespace acctc::runtime
