// A classification counted in BPF (docs/runtime.md, "Classes in BPF"): a TCX program finds the
// index of each packet's class, by its port slot (BpfPortSlots: protocol and destination port)
// in the `owners` array, or by the longest of the classes' prefixes holding its address, and adds
// the packet (one, and its L3 length, as nft's counter) to that class's element of the `counts`
// array, in the current generation. No walk over the classes: the first-match partition is in
// the owners, so the program costs about the same for 10 classes as for 100,000.
//
// Maps (pinned in one directory): `counts` (two generations of `capacity` counts, index 0
// unused), `generation` (which one the program adds to), and for ports `owners` (a class index
// per slot, 0 for none). The arrays are mapped into the reading process (bpf::MappedArray); the
// prefixes' map is made anew by each apply and held by the program.
#pragma once

#include "acctc/bpf_class_plan.hpp"
#include "acctc/runtime/bpf.hpp"
#include "acctc/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <utility>
#include <vector>

namespace acctc::runtime {

struct BpfClassCounts {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// Where a program finds a packet's class: by its port slot in a bpf_slot_owners array, or by the
// address `key` names among prefixes (bpf_prefix_owners), `otherwise` where none holds the
// address (0: such packets are not counted).
struct BpfClassLookup {
    BpfKey key = BpfKey::destination_port;
    int owners = -1;
    std::uint32_t otherwise = 0;
    // Prefixes: with `by_length`, `owners` is a hash table of prefixes, which the program looks
    // the address up in cut to each length there, longest first (lengths[0] IPv4's, [1]
    // IPv6's); else a longest-prefix-match trie.
    bool by_length = false;
    std::vector<unsigned> lengths[2];
};

// Prefix lengths per family up to which a hash lookup per length beats the trie's walk.
constexpr std::size_t max_hashed_lengths = 4;

class BpfClassCounter {
  public:
    // Class indices 1 .. capacity - 1: one per slot at most, and `otherwise`.
    static constexpr std::uint32_t capacity = BpfPortSlots::count + 2;

    // The maps pinned in `dir`; with `create`, made and pinned there where missing (a new
    // directory's classes all start at zero).
    static BpfClassCounter pinned(const std::filesystem::path& dir, bool create);

    // The program that counts into these maps on a device whose IP header is `link_header`
    // bytes into the frame; with `forwarded_only`, packets the host sent itself are not counted
    // (at egress: skb->ingress_ifindex is 0 for them).
    UniqueFd program(const BpfClassLookup& lookup, unsigned link_header, bool forwarded_only) const;

    // What each class index holds now, both generations.
    std::vector<BpfClassCounts> read() const;
    // The same, exact under traffic, and every index back to zero: the program is switched to
    // the other generation, and the old one read and emptied once no program still counts in it.
    std::vector<BpfClassCounts> read_and_reset();
    // Sets each index's counts (carried from elsewhere, or zero for a new class): only for
    // indices no slot owns yet, so that nothing counts into them meanwhile.
    void start(const std::map<std::uint32_t, BpfClassCounts>& starts);

  private:
    std::uint32_t generation() const;

    UniqueFd counts_;
    UniqueFd generation_;
    bpf::MappedArray counts_mapped_;
};

// The class index owning each port slot (BpfPortSlots::count of them; a classification of
// ports), in a new array for one program: a reload's program gets its own, so that a packet is
// looked up in the old owners or the new ones. Sets `lookup`'s owners (the map returned).
UniqueFd bpf_slot_owners(const std::vector<std::uint32_t>& owners, BpfClassLookup& lookup);

// The prefixes and their class indices (a classification of networks), for one program: a hash
// table where each family has at most max_hashed_lengths lengths, else a trie. Sets `lookup`'s
// owners (the map returned), by_length and lengths.
UniqueFd bpf_prefix_owners(const std::vector<std::pair<BpfPrefix, std::uint32_t>>& owners,
                           BpfClassLookup& lookup);

} // namespace acctc::runtime
