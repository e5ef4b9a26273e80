#include "intervals.hpp"

#include <algorithm>
#include <arpa/inet.h>

namespace acctc {

IntervalSet IntervalSet::range(u128 lo, u128 hi) {
    IntervalSet set;
    set.add(lo, hi);
    return set;
}

namespace {

// Whether b (starting at or after a's start) overlaps a or follows it without a gap.
bool joins(const Interval& a, const Interval& b) {
    return a.hi == ~u128{0} || a.hi + 1 >= b.lo;
}

} // namespace

IntervalSet IntervalSet::of(std::vector<Interval> intervals) {
    std::sort(intervals.begin(), intervals.end(),
              [](const Interval& a, const Interval& b) { return a.lo < b.lo; });
    // Merged in place: the list's own buffer becomes the set's (one address list per class).
    std::size_t kept = 0;
    for (const Interval& part : intervals) {
        if (kept > 0 && joins(intervals[kept - 1], part)) {
            intervals[kept - 1].hi = std::max(intervals[kept - 1].hi, part.hi);
        } else {
            intervals[kept++] = part;
        }
    }
    intervals.resize(kept);
    IntervalSet set;
    set.parts_ = std::move(intervals);
    return set;
}

void IntervalSet::append(Interval next) {
    if (!parts_.empty() && joins(parts_.back(), next)) {
        parts_.back().hi = std::max(parts_.back().hi, next.hi);
    } else {
        parts_.push_back(next);
    }
}

// The parts [first, last) that overlap or touch [lo, hi] become one; O(log n) to find them.
void IntervalSet::add(u128 lo, u128 hi) {
    const Interval next{lo, hi};
    const auto first = std::partition_point(parts_.begin(), parts_.end(), [&](const Interval& p) {
        return p.lo < lo && !joins(p, next);
    });
    const auto last = std::partition_point(first, parts_.end(),
                                           [&](const Interval& p) { return joins(next, p); });
    if (first == last) {
        parts_.insert(first, next);
        return;
    }
    first->lo = std::min(first->lo, lo);
    first->hi = std::max(hi, std::prev(last)->hi);
    parts_.erase(first + 1, last);
}

// A linear merge of the two sorted lists.
void IntervalSet::add(const IntervalSet& other) {
    if (other.parts_.empty()) {
        return;
    }
    if (parts_.empty()) {
        parts_ = other.parts_;
        return;
    }
    std::vector<Interval> mine = std::move(parts_);
    parts_.clear();
    parts_.reserve(mine.size() + other.parts_.size());
    auto a = mine.begin();
    auto b = other.parts_.begin();
    while (a != mine.end() || b != other.parts_.end()) {
        if (b == other.parts_.end() || (a != mine.end() && a->lo <= b->lo)) {
            append(*a++);
        } else {
            append(*b++);
        }
    }
}

IntervalSet IntervalSet::minus(const IntervalSet& other) const {
    IntervalSet out;
    std::size_t j = 0;
    for (Interval part : parts_) {
        while (j < other.parts_.size() && other.parts_[j].hi < part.lo) {
            ++j;
        }
        u128 cursor = part.lo;
        bool open = true;
        for (std::size_t k = j; k < other.parts_.size() && other.parts_[k].lo <= part.hi; ++k) {
            const Interval& cut = other.parts_[k];
            if (cut.lo > cursor) {
                out.parts_.push_back({cursor, cut.lo - 1});
            }
            if (cut.hi >= part.hi) {
                open = false;
                break;
            }
            cursor = std::max(cursor, cut.hi + 1);
        }
        if (open && cursor <= part.hi) {
            out.parts_.push_back({cursor, part.hi});
        }
    }
    return out;
}

IntervalSet IntervalSet::intersect(const IntervalSet& other) const {
    IntervalSet out;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < parts_.size() && j < other.parts_.size()) {
        const u128 lo = std::max(parts_[i].lo, other.parts_[j].lo);
        const u128 hi = std::min(parts_[i].hi, other.parts_[j].hi);
        if (lo <= hi) {
            out.parts_.push_back({lo, hi});
        }
        if (parts_[i].hi < other.parts_[j].hi) {
            ++i;
        } else {
            ++j;
        }
    }
    return out;
}

bool IntervalSet::contains(u128 value) const {
    auto it = std::upper_bound(parts_.begin(), parts_.end(), value,
                               [](u128 v, const Interval& part) { return v < part.lo; });
    return it != parts_.begin() && std::prev(it)->hi >= value;
}

bool IntervalSet::all_singletons() const {
    return std::all_of(parts_.begin(), parts_.end(),
                       [](const Interval& p) { return p.lo == p.hi; });
}

u128 IntervalSet::size_saturated() const {
    u128 total = 0;
    for (const Interval& part : parts_) {
        const u128 width = part.hi - part.lo;
        if (width == ~u128{0} || total > ~u128{0} - width - 1) {
            return ~u128{0};
        }
        total += width + 1;
    }
    return total;
}

std::vector<Prefix> to_prefixes(Interval interval, unsigned width) {
    std::vector<Prefix> out;
    u128 lo = interval.lo;
    while (true) {
        // The largest aligned block that starts at lo and ends inside the interval.
        unsigned host_bits = 0;
        while (host_bits < width && (lo & low_bits(host_bits + 1)) == 0 &&
               low_bits(host_bits + 1) <= interval.hi - lo) {
            ++host_bits;
        }
        const Prefix prefix{lo, width - host_bits};
        out.push_back(prefix);
        const u128 last = prefix_interval(prefix, width).hi;
        if (last >= interval.hi) {
            break;
        }
        lo = last + 1;
    }
    return out;
}

// Digits written straight into a buffer: large address lists print hundreds of thousands.
std::string format_ipv4(u128 value) {
    const auto v = static_cast<std::uint32_t>(value);
    char text[16];
    char* out = text;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const unsigned byte = (v >> shift) & 255;
        if (byte >= 100) {
            *out++ = static_cast<char>('0' + byte / 100);
        }
        if (byte >= 10) {
            *out++ = static_cast<char>('0' + byte / 10 % 10);
        }
        *out++ = static_cast<char>('0' + byte % 10);
        *out++ = '.';
    }
    return std::string(text, out - 1);
}

std::string format_ipv6(u128 value) {
    unsigned char bytes[16];
    for (int i = 15; i >= 0; --i) {
        bytes[i] = static_cast<unsigned char>(value & 0xff);
        value >>= 8;
    }
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, bytes, text, sizeof text);
    return text;
}

std::string format_address(u128 value, unsigned width) {
    return width == 128 ? format_ipv6(value) : format_ipv4(value);
}

} // namespace acctc
