// What a TCX program on one device can count in place of nft's rules: the facts bpf_hosts.cpp
// (per-host counters) and bpf_classes.cpp (classifications) both pick by.
#pragma once

#include "acctc/bpf_range.hpp"
#include "acctc/counter_labels.hpp"
#include "ir.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace acctc {

// An interval of the compiler's (addresses, ports, protocols) as the programs compare it.
BpfRange bpf_range(const Interval& interval);

// Whether a quota sums the kernel counter `counter`: its bytes are then nft objects' (the quota's
// objects count with the counter's rules), which a program cannot add to.
bool summed_by_quota(const ir::Policy& policy, const std::string& counter);

// One interface, in both scopes or forward only, nothing else: the packets a program on that
// device's hook sees (it also sees what routing then drops, and with `forward` the host's own
// packets on the device: docs/runtime.md).
bool device_only(const ir::Match& m);

// What a program on `device`'s TCX hooks sees instead of what nft's hooks would (an identity made
// for nft by counter_object): arriving (at ingress), what GRO merged on that device; leaving (at
// egress), GSO packets before they are cut up and what GRO merged where it arrived; neither
// fragmentation (egress comes after it) nor reassembly (ingress comes before it). `protocol`:
// the program counts only that protocol's packets.
void see_at_tcx(CounterIdentity& identity, const std::string& device, bool arriving, bool leaving,
                std::optional<std::uint8_t> protocol);

} // namespace acctc
