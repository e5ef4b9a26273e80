#include "intervals.hpp"

#include <algorithm>
#include <arpa/inet.h>

namespace acctc {

IntervalSet IntervalSet::range(u128 lo, u128 hi) {
    IntervalSet set;
    set.add(lo, hi);
    return set;
}

void IntervalSet::add(u128 lo, u128 hi) {
    Interval next{lo, hi};
    std::vector<Interval> merged;
    merged.reserve(parts_.size() + 1);
    bool placed = false;
    for (const Interval& part : parts_) {
        // Disjoint and not adjacent: keep as is.
        if (part.hi != ~u128{0} && part.hi + 1 < next.lo) {
            merged.push_back(part);
        } else if (next.hi != ~u128{0} && next.hi + 1 < part.lo) {
            if (!placed) {
                merged.push_back(next);
                placed = true;
            }
            merged.push_back(part);
        } else {
            next.lo = std::min(next.lo, part.lo);
            next.hi = std::max(next.hi, part.hi);
        }
    }
    if (!placed) {
        merged.push_back(next);
    }
    parts_ = std::move(merged);
}

void IntervalSet::add(const IntervalSet& other) {
    if (parts_.empty()) {
        parts_ = other.parts_;
        return;
    }
    for (const Interval& part : other.parts_) {
        add(part.lo, part.hi);
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

std::string format_ipv4(u128 value) {
    const auto v = static_cast<std::uint32_t>(value);
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." +
           std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255);
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

} // namespace acctc
