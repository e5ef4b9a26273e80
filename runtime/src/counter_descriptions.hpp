// The counters' descriptions (counter_sample.hpp) as a process last read them, per table: a
// read that finds a counter with the comment it had shares the description it had instead of
// decoding the comment into strings and lists again. What makes a read of 100,000 element
// counters in a long-running reader (bench, serve, record --every, counters --watch) allocate
// nothing per counter: before, half of such a read was the heap (docs/performance.md).
#pragma once

#include "acctc/runtime/counter_sample.hpp"
#include "nft_element_counters.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

class CounterDescriptions {
  public:
    // New descriptions are made in chunks that never move, so that readings share a few
    // reference counts (one per chunk) instead of one each: 100,000 readings copied and
    // destroyed otherwise touch 100,000 counts scattered over the heap.
    using Chunk = std::vector<CounterDescription>;
    // A counter's description with what it was decoded from.
    struct Entry {
        std::string name;
        std::string comment;
        std::shared_ptr<const CounterDescription> description; // owned by its chunk
        const Chunk* chunk = nullptr;
    };

    // What the process kept of `table` in the calling thread's network namespace (nothing at
    // first). Readers of the same table at once each take their own: the last one kept wins.
    static CounterDescriptions take(const std::string& table);
    // Keeps the descriptions this read asked for (the others are dropped) for the next read.
    static void keep(const std::string& table, CounterDescriptions descriptions);

    // The description of counter `name` whose kernel comment is `comment`: the one kept when
    // the comment is the same, else decoded (decode_counter_comment). Fastest asked in name
    // order, as readings are built. `unchanged`: the caller knows `comment` is the one `name`
    // had in the read these were kept from (ElementCounterSums::unchanged), so a kept entry of
    // that name alone is not compared (100,000 comments, each a cache miss: ~10 % of a read).
    std::shared_ptr<const CounterDescription> get(std::string_view name, std::string_view comment,
                                                  bool unchanged = false);
    // The element counters of the read these were kept from (nft_element_counters.hpp): the
    // next read of the table finds in them whether its elements are unchanged, and their order.
    ElementCounterSums& elements() { return elements_; }
    // How many descriptions were kept: about as many counters as the last read had.
    std::size_t size() const { return kept_.size(); }

  private:
    std::shared_ptr<const CounterDescription> make(CounterIdentity identity, const Chunk*& chunk);
    // The kept entries and the uses, made the next read's kept entries, sorted by name.
    std::vector<Entry> used() &&;

    std::uint64_t netns_ = 0;
    std::vector<Entry> kept_; // by name
    std::vector<bool> taken_; // kept_ entries in uses_
    std::size_t cursor_ = 0;  // in kept_, where the next name is looked for first
    // The descriptions asked for, in order: below kept_.size() a kept entry, else a new one
    // (fresh_[use - kept_.size()]). Indices, not entries: a read allocates and touches little.
    std::vector<std::size_t> uses_;
    std::vector<Entry> fresh_;
    std::shared_ptr<Chunk> chunk_; // where new descriptions go, until full
    // The lists of receive devices new descriptions share (CounterDescription::devices).
    std::vector<std::shared_ptr<const std::vector<std::string>>> devices_;
    ElementCounterSums elements_;
};

} // namespace acctc::runtime
