// The kernel counter names a policy produces, each with where it was first produced: 100,000
// and more for as many classes, only ever inserted. Open addressing over indices into one
// vector of entries (a name of up to 15 bytes lives in its entry): a node-based hash map spent
// its time on cache misses and on allocating, and then freeing, one node per name.
#pragma once

#include "acctc/source.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc {

class NameTable {
  public:
    // Room for `names` without growing.
    void reserve(std::size_t names) {
        entries_.reserve(names);
        if (slots_.size() < 2 * names) {
            rehash(2 * names);
        }
    }

    // Adds name, first produced at range; when it is there already, the range it came with
    // first (and nothing changes).
    const SourceRange* insert(const std::string& name, SourceRange range) {
        if (2 * (entries_.size() + 1) > slots_.size()) {
            rehash(2 * (entries_.size() + 1));
        }
        const std::uint64_t hash = std::hash<std::string_view>{}(name);
        const std::uint64_t tag = hash >> 32;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t at = static_cast<std::size_t>(hash) & mask;; at = (at + 1) & mask) {
            const std::uint64_t slot = slots_[at];
            if (slot == 0) {
                entries_.push_back({name, range});
                slots_[at] = tag << 32 | entries_.size(); // the entry's index + 1
                return nullptr;
            }
            const Entry& entry = entries_[(slot & 0xffffffffU) - 1];
            if (slot >> 32 == tag && entry.name == name) {
                return &entry.range;
            }
        }
    }

  private:
    struct Entry {
        std::string name;
        SourceRange range;
    };

    // At least `wanted` slots, a power of two; every entry placed again.
    void rehash(std::size_t wanted) {
        std::size_t size = 16;
        while (size < wanted) {
            size *= 2;
        }
        slots_.assign(size, 0);
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const std::uint64_t hash = std::hash<std::string_view>{}(entries_[i].name);
            std::size_t at = static_cast<std::size_t>(hash) & (size - 1);
            while (slots_[at] != 0) {
                at = (at + 1) & (size - 1);
            }
            slots_[at] = (hash >> 32) << 32 | (i + 1);
        }
    }

    std::vector<Entry> entries_;
    std::vector<std::uint64_t> slots_; // 0: empty; else the hash's high half, the index + 1
};

} // namespace acctc
