// The counters of large classifications, counted by the elements of their counting sets
// (compiler/src/element_counters.hpp): one NFT_MSG_GETSETELEM dump per set, each set a few
// replies (a dump's next reply walks the set again to where the last stopped), so a read is
// linear in the elements (docs/performance.md). A class of several keys is the sum of its
// elements.
#pragma once

#include "acctc/compile.hpp"
#include "nft_counter_dump.hpp"
#include "nft_netlink.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctc::runtime {

// The elements read from a table's counting sets, summed per counter name.
class ElementCounterSums {
  public:
    // One counter: its name, its comment (as a counter object of that name would carry it) and
    // its elements' values summed. The views point into this object.
    struct Sum {
        std::string_view name;
        std::string_view comment;
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;
    };

    // An element's comment (name, space, counter comment) and values, copied into chunks of
    // text that never move: no allocation per element, no copy of what came before when the
    // text grows (100,000 comments are ~8 MB). Split and given its order key here, while the
    // reply it came in is still in the cache.
    void add(std::string_view comment, std::uint64_t packets, std::uint64_t bytes);
    // Room for this many elements: no copy of those before at each doubling.
    void reserve(std::size_t elements) { records_.reserve(elements); }
    // Back to what it held before a set's dump (a plain dump interrupted is taken again).
    struct Mark {
        std::size_t records = 0;
        std::size_t chunks = 0;
        std::size_t used = 0;
    };
    Mark mark() const { return {records_.size(), chunks_.size(), used_}; }
    void undo(const Mark& to);

    // One Sum per name, in the byte order of the names (as the name cache keeps counter
    // objects: the readings then need no sort). Elements whose comment names no counter are left
    // out. With `last`, the sums of an earlier read of the same table: when it held the same
    // elements with the same comments, in the order they came now (a table no reload changed),
    // its order is taken instead of sorting 100,000 names again (~7 % of a read).
    std::vector<Sum> sums(ElementCounterSums* last = nullptr);
    // The last sums() found every element as `last` held it: each Sum's comment is the one its
    // name had in that read.
    bool unchanged() const { return unchanged_; }

  private:
    // The same elements in the same order, each with the same name and comment, as `last`.
    bool same_elements(const ElementCounterSums& last) const;

    struct Record {
        // The name's first 16 bytes as two big-endian numbers: comparing them orders names as
        // their bytes do, without reading the text (100,000 names share prefixes).
        std::uint64_t high;
        std::uint64_t low;
        Sum sum;
    };
    static constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
    // The records by name (with their keys), as the last sums() sorted them.
    struct Order {
        std::uint64_t high;
        std::uint64_t low;
        std::uint32_t record;
    };
    std::vector<Record> records_;
    std::vector<Order> order_;
    bool unchanged_ = false;
    std::vector<std::unique_ptr<char[]>> chunks_;
    std::size_t used_ = 0;     // of the last chunk
    std::size_t capacity_ = 0; // of the last chunk
};

// Every element-counted counter of `table inet TABLE`. With reset each element is read and
// zeroed atomically by the kernel (NFT_MSG_GETSETELEM_RESET), and none is zeroed without being
// returned. `expected`: how many elements there probably are (the last read's).
ElementCounterSums read_element_counters(NftNetlink& netlink, const std::string& table, bool reset,
                                         std::size_t expected = 0);

// Every element with a counter of one counting set: on_element(comment, key, packets, bytes),
// the key as the kernel holds it. False when a concurrent change interrupted a plain dump.
using OnCountingElement = std::function<void(std::string_view comment, std::string_view key,
                                             std::uint64_t packets, std::uint64_t bytes)>;
bool dump_counting_set(NftNetlink& netlink, const std::string& table, const std::string& set,
                       bool reset, const OnCountingElement& on_element);

// An element's key as nft reads it back (numbers, addresses) from the bytes the kernel holds,
// given the set's field types (CompiledPolicy::ElementSet::types); empty when they disagree.
std::string key_text(std::string_view key, const std::vector<std::string>& types);

// An element's comment split into the counter name and the counter's comment; false when it is
// not one (no name).
bool split_element_comment(std::string_view comment, std::string_view& name,
                           std::string_view& counter_comment);

} // namespace acctc::runtime
