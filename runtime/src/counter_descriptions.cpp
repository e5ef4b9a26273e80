#include "counter_descriptions.hpp"

#include "acctc/runtime/netns.hpp"

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_set>

namespace acctc::runtime {
namespace {

// The tables whose descriptions the process keeps: the last few read, so that one reader of
// many namespaces does not keep every table it ever saw.
constexpr std::size_t kept_tables = 8;
constexpr std::size_t largest_chunk = 4096;
// Distinct lists of receive devices shared by a read's new descriptions (a policy names a few).
constexpr std::size_t shared_device_lists = 16;

} // namespace

struct KeptTable {
    std::uint64_t netns = 0;
    std::string table;
    std::vector<CounterDescriptions::Entry> entries;
    ElementCounterSums elements;
};

namespace {

std::mutex& store_lock() {
    static std::mutex lock;
    return lock;
}

std::list<KeptTable>& store() {
    static std::list<KeptTable> tables; // the most recently kept last
    return tables;
}

} // namespace

CounterDescriptions CounterDescriptions::take(const std::string& table) {
    CounterDescriptions out;
    out.netns_ = current_netns_cookie().value_or(0);
    const std::lock_guard lock(store_lock());
    auto& tables = store();
    const auto found = std::find_if(tables.begin(), tables.end(), [&](const KeptTable& kept) {
        return kept.netns == out.netns_ && kept.table == table;
    });
    if (found != tables.end()) {
        out.kept_ = std::move(found->entries);
        out.elements_ = std::move(found->elements);
        tables.erase(found);
    }
    out.taken_.assign(out.kept_.size(), false);
    return out;
}

void CounterDescriptions::keep(const std::string& table, CounterDescriptions descriptions) {
    const std::uint64_t netns = descriptions.netns_;
    ElementCounterSums elements = std::move(descriptions.elements_);
    auto entries = std::move(descriptions).used();
    // Descriptions live as long as their chunk: a few kept of many chunks (counters removed by
    // reloads) would keep them all. Then nothing is kept, and the next read decodes anew.
    std::unordered_set<const Chunk*> chunks;
    std::size_t held = 0;
    for (const auto& entry : entries) {
        if (chunks.insert(entry.chunk).second) {
            held += entry.chunk->capacity();
        }
    }
    if (held > 4 * entries.size() + 2 * largest_chunk) {
        entries.clear();
    }
    const std::lock_guard lock(store_lock());
    auto& tables = store();
    std::erase_if(
        tables, [&](const KeptTable& kept) { return kept.netns == netns && kept.table == table; });
    tables.push_back({netns, table, std::move(entries), std::move(elements)});
    while (tables.size() > kept_tables) {
        tables.pop_front();
    }
}

std::shared_ptr<const CounterDescription>
CounterDescriptions::get(std::string_view name, std::string_view comment, bool unchanged) {
    const auto before = [](const Entry& entry, std::string_view wanted) {
        return entry.name < wanted;
    };
    if (cursor_ >= kept_.size() || kept_[cursor_].name != name) {
        // Not the next one: searched for, forward when the names come in order.
        const bool forward = cursor_ < kept_.size() && kept_[cursor_].name < name;
        const auto from = kept_.begin() + static_cast<std::ptrdiff_t>(forward ? cursor_ : 0);
        cursor_ = static_cast<std::size_t>(std::lower_bound(from, kept_.end(), name, before) -
                                           kept_.begin());
    }
    // Two kept entries of one name (a counter object and its carried elements) have the
    // comments of both: then the comment decides.
    const auto alone = [&] {
        return (cursor_ == 0 || kept_[cursor_ - 1].name != name) &&
               (cursor_ + 1 == kept_.size() || kept_[cursor_ + 1].name != name);
    };
    if (cursor_ < kept_.size() && kept_[cursor_].name == name &&
        ((unchanged && alone()) || kept_[cursor_].comment == comment)) {
        const std::size_t index = cursor_++;
        if (!taken_[index]) {
            taken_[index] = true;
            uses_.push_back(index);
        }
        return kept_[index].description;
    }
    uses_.push_back(kept_.size() + fresh_.size());
    Entry& fresh = fresh_.emplace_back();
    fresh.name = name;
    fresh.comment = comment;
    fresh.description = make(decode_counter_comment(name, comment), fresh.chunk);
    return fresh.description;
}

std::shared_ptr<const CounterDescription> CounterDescriptions::make(CounterIdentity identity,
                                                                    const Chunk*& chunk) {
    if (!chunk_ || chunk_->size() == chunk_->capacity()) {
        // Small at first: a read that finds almost everything kept makes a few.
        const std::size_t capacity =
            chunk_ ? std::min(largest_chunk, 2 * chunk_->capacity()) : std::size_t{64};
        chunk_ = std::make_shared<Chunk>();
        chunk_->reserve(capacity);
    }
    std::shared_ptr<const std::vector<std::string>> devices;
    if (!identity.receive_devices.empty()) {
        const auto same = std::find_if(devices_.begin(), devices_.end(), [&](const auto& list) {
            return *list == identity.receive_devices;
        });
        if (same != devices_.end()) {
            devices = *same;
        } else {
            devices = std::make_shared<const std::vector<std::string>>(
                std::move(identity.receive_devices));
            if (devices_.size() < shared_device_lists) {
                devices_.push_back(devices);
            }
        }
    }
    chunk_->push_back({std::move(identity.family), std::move(identity.labels), identity.wire,
                       std::move(devices), std::move(identity.origin)});
    chunk = chunk_.get();
    // Shares the chunk's count; the chunk never grows past its capacity, so this never moves.
    return {chunk_, &chunk_->back()};
}

std::vector<CounterDescriptions::Entry> CounterDescriptions::used() && {
    // The usual read: every kept description asked for once, none new. Kept as it is.
    if (fresh_.empty() && uses_.size() == kept_.size()) {
        return std::move(kept_);
    }
    std::vector<Entry> out;
    out.reserve(uses_.size());
    for (const std::size_t use : uses_) {
        out.push_back(use < kept_.size() ? std::move(kept_[use])
                                         : std::move(fresh_[use - kept_.size()]));
    }
    // Asked for in a few runs in name order (the counter objects, then the element counters):
    // the runs merged, not the whole sorted again.
    const auto by_name = [](const Entry& a, const Entry& b) { return a.name < b.name; };
    auto sorted = std::is_sorted_until(out.begin(), out.end(), by_name);
    for (int runs = 1; sorted != out.end(); ++runs) {
        if (runs == 8) {
            std::stable_sort(out.begin(), out.end(), by_name);
            break;
        }
        const auto end = std::is_sorted_until(sorted, out.end(), by_name);
        std::inplace_merge(out.begin(), sorted, end, by_name);
        sorted = end;
    }
    return out;
}

} // namespace acctc::runtime
