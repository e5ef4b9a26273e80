// The TCX program that corrects merged packets (acctc/bpf_wire_plan.hpp): for a packet the
// device's hook sees merged (gso_segs > 1) of TCP or UDP, IPv4 or IPv6 (the transport right
// after the IPv6 header), every rule of the hook whose conditions hold adds gso_segs - 1
// packets and gso_segs - 1 times the network and transport header length (TCP options
// included) to its counter's slot. Every other packet passes untouched after two loads.
#pragma once

#include "acctc/bpf_wire_plan.hpp"

#include <cstdint>
#include <linux/bpf.h>
#include <map>
#include <string>
#include <vector>

namespace acctc::runtime {

// What a slot holds, per CPU.
struct WireCounts {
    std::uint64_t packets;
    std::uint64_t bytes;
};

struct WireProgramMaps {
    int counts = -1;     // per-CPU array of WireCounts: generation * slots + slot
    int generation = -1; // array of one u32: 0 or 1
    std::uint32_t slots = 0;
    int quota_counts = -1; // per-CPU array of WireCounts, one per quota slot (no generations)
};

// Where a counter's correction goes: its slot, and the slots of the quotas that sum it.
struct WireSlots {
    std::uint32_t counter = 0;
    std::vector<std::uint32_t> quotas;
};

// `slots[c]`: where the plan's counter c counts; `ifindex`: the devices of the rules'
// not_arrived_via (one missing has no arrivals).
std::vector<bpf_insn> wire_program(const WireHook& hook, const std::vector<WireSlots>& slots,
                                   const WireProgramMaps& maps,
                                   const std::map<std::string, int>& ifindex);

} // namespace acctc::runtime
