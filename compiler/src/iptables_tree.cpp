#include "iptables_tree.hpp"

#include <algorithm>
#include <optional>
#include <tuple>

namespace acctc::iptables {
namespace {

// Values of one key field where the same entries hold, in ascending order.
struct Segment {
    Interval values;
    std::vector<std::size_t> entries; // ascending
};

unsigned trailing_zeros(u128 value, unsigned width) {
    unsigned n = 0;
    while (n < width && (value & 1) == 0) {
        value >>= 1;
        ++n;
    }
    return n;
}

// The last address of the smallest prefix holding [lo, hi].
u128 prefix_end(u128 lo, u128 hi, unsigned width) {
    unsigned host = 0;
    while (host < width && (lo >> host) != (hi >> host)) {
        ++host;
    }
    return lo | low_bits(host);
}

class Planner {
  public:
    Planner(const std::vector<rules::MapEntry>& entries, const std::vector<unsigned>& widths,
            const std::vector<bool>& aligned, LookupShape shape)
        : entries_(entries), widths_(widths), aligned_(aligned), shape_(shape) {
        shape_.leaf_size = std::max<std::size_t>(shape_.leaf_size, 1);
        shape_.fanout = std::max<std::size_t>(shape_.fanout, 2);
    }

    LookupTree run() {
        std::vector<std::size_t> all(entries_.size());
        for (std::size_t i = 0; i < all.size(); ++i) {
            all[i] = i;
        }
        if (all.size() < shape_.min_entries) {
            leaf(std::move(all));
        } else {
            build(all, 0, 0, field_max(0), 0);
        }
        return std::move(tree_);
    }

  private:
    u128 field_max(std::size_t field) const { return low_bits(widths_[field]); }

    std::size_t leaf(std::vector<std::size_t> entries) {
        tree_.nodes.emplace_back();
        tree_.nodes.back().entries = std::move(entries);
        return tree_.nodes.size() - 1;
    }

    // The segments of `field` within [lo, hi] over `entries`; nullopt when overlapping entries
    // would repeat too many of them (a leaf is then the honest answer).
    std::optional<std::vector<Segment>> segments(const std::vector<std::size_t>& entries,
                                                 std::size_t field, u128 lo, u128 hi) const {
        struct Item {
            Interval values;
            std::size_t entry;
        };
        std::vector<Item> items;
        std::vector<u128> points;
        for (std::size_t e : entries) {
            const Interval& key = entries_[e].key[field];
            const Interval clipped{std::max(key.lo, lo), std::min(key.hi, hi)};
            if (clipped.lo > clipped.hi) {
                continue;
            }
            items.push_back({clipped, e});
            points.push_back(clipped.lo);
            if (clipped.hi < hi) {
                points.push_back(clipped.hi + 1);
            }
        }
        std::sort(items.begin(), items.end(),
                  [](const Item& a, const Item& b) { return a.values.lo < b.values.lo; });
        std::sort(points.begin(), points.end());
        points.erase(std::unique(points.begin(), points.end()), points.end());
        std::vector<Segment> out;
        std::vector<const Item*> active;
        std::size_t next = 0;
        std::size_t total = 0;
        for (std::size_t k = 0; k < points.size(); ++k) {
            const u128 start = points[k];
            const u128 end = k + 1 < points.size() ? points[k + 1] - 1 : hi;
            std::erase_if(active, [&](const Item* item) { return item->values.hi < start; });
            for (; next < items.size() && items[next].values.lo == start; ++next) {
                active.push_back(&items[next]);
            }
            if (active.empty()) {
                continue;
            }
            std::vector<std::size_t> held;
            for (const Item* item : active) {
                held.push_back(item->entry);
            }
            std::sort(held.begin(), held.end());
            if (!out.empty() && out.back().values.hi + 1 == start && out.back().entries == held) {
                out.back().values.hi = end;
                continue;
            }
            total += held.size();
            if (total > 4 * entries.size() + 64) {
                return std::nullopt;
            }
            out.push_back({{start, end}, std::move(held)});
        }
        return out;
    }

    // Where group boundaries go: after segment index t for each of groups - 1 boundaries,
    // evenly spread; on address fields moved a little to where the group is one prefix.
    std::vector<std::size_t> boundaries(const std::vector<Segment>& segs, std::size_t field,
                                        std::size_t depth) const {
        // As few groups as fill their leaves (five entries make a test and two leaves, not
        // four chains of one entry), and enough that the levels left suffice.
        const std::size_t n = segs.size();
        const std::size_t leaves = (n + shape_.leaf_size - 1) / shape_.leaf_size;
        std::size_t fanout = shape_.fanout;
        const std::size_t levels = shape_.max_depth > depth ? shape_.max_depth - depth : 1;
        auto reach = [&](std::size_t f) {
            std::size_t r = 1;
            for (std::size_t l = 0; l < levels && r < leaves; ++l) {
                r *= f;
            }
            return r;
        };
        while (reach(fanout) < leaves) {
            ++fanout;
        }
        const std::size_t groups = std::clamp<std::size_t>(leaves, 2, std::min(fanout, n));
        std::vector<std::size_t> out;
        std::size_t start = 0; // first segment of the current group
        for (std::size_t j = 1; j < groups; ++j) {
            const std::size_t ideal = j * n / groups - 1;
            // t in [start, n - 1 - (groups - j)]: every group keeps at least one segment.
            const std::size_t low = start;
            const std::size_t high = n - 1 - (groups - j);
            std::size_t best = std::clamp(ideal, low, high);
            if (aligned_[field]) {
                const std::size_t window = std::max<std::size_t>(1, n / (2 * groups));
                const std::size_t from = std::max(low, ideal >= window ? ideal - window : 0);
                const std::size_t to = std::min(high, ideal + window);
                auto score = [&](std::size_t t) {
                    const bool one_prefix = prefix_end(segs[start].values.lo, segs[t].values.hi,
                                                       widths_[field]) < segs[t + 1].values.lo;
                    const unsigned alignment =
                        trailing_zeros(segs[t + 1].values.lo, widths_[field]);
                    const std::size_t distance = t > ideal ? t - ideal : ideal - t;
                    return std::make_tuple(one_prefix, alignment, n - distance);
                };
                for (std::size_t t = from; t <= to; ++t) {
                    if (score(t) > score(best)) {
                        best = t;
                    }
                }
            }
            out.push_back(best);
            start = best + 1;
        }
        return out;
    }

    // `depth`: the chains above this node's below the root (the last child of a node shares
    // its parent's chain, the others have chains of their own).
    std::size_t build(const std::vector<std::size_t>& entries, std::size_t field, u128 lo, u128 hi,
                      std::size_t depth) {
        if (entries.size() <= shape_.leaf_size || field >= widths_.size() ||
            depth >= shape_.max_depth) {
            return leaf(entries);
        }
        auto segs = segments(entries, field, lo, hi);
        if (!segs || segs->empty()) {
            return field + 1 < widths_.size()
                       ? build(entries, field + 1, 0, field_max(field + 1), depth)
                       : leaf(entries);
        }
        const std::size_t index = tree_.nodes.size();
        tree_.nodes.emplace_back();
        tree_.nodes[index].field = field;
        if (segs->size() == 1) {
            // One range of this field: the next field tells the entries apart.
            const Segment& only = segs->front();
            const std::size_t child =
                field + 1 < widths_.size()
                    ? build(only.entries, field + 1, 0, field_max(field + 1), depth)
                    : leaf(only.entries);
            tree_.nodes[index].children.push_back(
                {IntervalSet::range(only.values.lo, only.values.hi), hi, child});
            return index;
        }
        const auto cuts = boundaries(*segs, field, depth);
        std::size_t first = 0;
        for (std::size_t g = 0; g <= cuts.size(); ++g) {
            const std::size_t last = g < cuts.size() ? cuts[g] : segs->size() - 1;
            std::vector<std::size_t> held;
            std::vector<Interval> values;
            for (std::size_t s = first; s <= last; ++s) {
                held.insert(held.end(), (*segs)[s].entries.begin(), (*segs)[s].entries.end());
                values.push_back((*segs)[s].values);
            }
            std::sort(held.begin(), held.end());
            held.erase(std::unique(held.begin(), held.end()), held.end());
            const u128 limit = last + 1 < segs->size() ? (*segs)[last + 1].values.lo - 1 : hi;
            const bool own_chain = g < cuts.size();
            const std::size_t child = build(held, field, (*segs)[first].values.lo,
                                            (*segs)[last].values.hi, depth + (own_chain ? 1 : 0));
            tree_.nodes[index].children.push_back(
                {IntervalSet::of(std::move(values)), limit, child});
            first = last + 1;
        }
        return index;
    }

    const std::vector<rules::MapEntry>& entries_;
    const std::vector<unsigned>& widths_;
    const std::vector<bool>& aligned_;
    LookupShape shape_;
    LookupTree tree_;
};

} // namespace

LookupTree plan_lookup_tree(const std::vector<rules::MapEntry>& entries,
                            const std::vector<unsigned>& widths, const std::vector<bool>& aligned,
                            LookupShape shape) {
    return Planner(entries, widths, aligned, shape).run();
}

} // namespace acctc::iptables
