// Counting by protocol and port in BPF, the bench's experiment beside acctc's nft classification
// (docs/performance.md, "Classes in BPF"; acctc's own `--classes-in bpf` counts with
// BpfClassCounter, which adds a class lookup per slot): a TCX program on a device adds each TCP
// or UDP packet (one packet and its L3 length, what nft's counter counts) to the slot of its
// protocol and destination port in an array map, every other IP packet to the last slot. No
// lookup structure: the slot is an index computed from the header, and a classification of
// ports is the sums of its classes' slots, made when read, so the program never changes with the
// classes.
#pragma once

#include "acctc/bpf_class_plan.hpp"
#include "acctc/unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace acctc::runtime {

class BpfPortCounter {
  public:
    struct Slot {
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;
    };
    // TCP's ports, then UDP's, then `other`: other protocols, fragments past the first (no
    // ports, as for nft's `th dport`), IPv6 packets with more extension headers than the walk
    // takes (bpf::emit_port_slot).
    static constexpr std::size_t ports = BpfPortSlots::ports;
    static constexpr std::size_t other = BpfPortSlots::other;
    static constexpr std::size_t slots = BpfPortSlots::count;
    // The slot of a protocol (6 or 17) and destination port.
    static std::size_t slot(std::uint8_t protocol, std::uint16_t port);

    // The program reads the IP header `link_header` bytes into the frame (14: Ethernet).
    explicit BpfPortCounter(unsigned link_header = 14);

    // Attaches to the ingress (or egress) of the device with this index in the calling thread's
    // network namespace; detach() (or the destructor, or the namespace's end) takes it off.
    void attach(int ifindex, bool ingress = true);
    void detach() { link_.reset(); }

    // Every slot (BPF_MAP_LOOKUP_BATCH of the whole array).
    std::vector<Slot> read() const;

  private:
    UniqueFd slots_;
    UniqueFd program_;
    UniqueFd link_;
};

} // namespace acctc::runtime
