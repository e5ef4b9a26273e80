// Every kernel counter name a policy produces, with the range that produced it, to find a name
// produced twice. An open-addressing table of indices into one vector: a node-based hash map
// of 100,000 names (one per class) spent its time on cache misses and on a node allocated and
// freed per name.
#pragma once
#include "acctc/source.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
namespace acctc {
class ProducedNames {
  public:
    void reserve(std::size_t names) {
        entries_.reserve(names);
        grow_to(names);
    }
    // Adds the name, or returns where it was produced first.
    std::optional<SourceRange> insert(std::string_view name, SourceRange range) {
        grow_to(entries_.size() + 1);
        const auto hash = static_cast<std::uint32_t>(std::hash<std::string_view>{}(name));
        for (std::size_t at = hash & mask_;; at = (at + 1) & mask_) {
            Slot& slot = slots_[at];
            if (slot.index == 0) {
                entries_.push_back({std::string(name), range});
                slot = {static_cast<std::uint32_t>(entries_.size()), hash};
                return std::nullopt;
            }
            if (slot.hash == hash && entries_[slot.index - 1].name == name) {
                return entries_[slot.index - 1].range;
            }
        }
    }

  private:
    struct Entry {
        std::string name;
        SourceRange range;
    };
    struct Slot {
        std::uint32_t index = 0; // into entries_, plus one; 0: empty
        std::uint32_t hash = 0;  // the name's, compared before reading the entry
    };
    // At most half full: rebuilt twice as large from the kept hashes.
    void grow_to(std::size_t names) {
        if (2 * names <= slots_.size())
            return;
        std::size_t size = 16;
        while (size < 2 * names)
            size *= 2;
        std::vector<Slot> old(size);
        old.swap(slots_);
        mask_ = size - 1;
        for (const Slot& slot : old) {
            if (slot.index != 0) {
                std::size_t at = slot.hash & mask_;
                while (slots_[at].index != 0)
                    at = (at + 1) & mask_;
                slots_[at] = slot;
            }
        }
    }
    std::vector<Entry> entries_;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};
} // namespace acctc
