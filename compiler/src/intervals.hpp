// Sets of unsigned integers (ports, protocol numbers, IPv4 and IPv6 addresses as 128-bit values)
// kept as sorted, disjoint, merged inclusive intervals.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace acctc {

// __extension__ keeps -Wpedantic quiet about the GNU 128-bit integer.
__extension__ typedef unsigned __int128 u128;

struct Interval {
    u128 lo = 0;
    u128 hi = 0; // inclusive
    auto operator<=>(const Interval&) const = default;
};

class IntervalSet {
  public:
    IntervalSet() = default;
    static IntervalSet single(u128 value) { return range(value, value); }
    static IntervalSet range(u128 lo, u128 hi);
    // The union of intervals in any order, overlapping or not: sorted and merged once, where
    // adding them one by one would move the parts after each insertion point.
    static IntervalSet of(std::vector<Interval> intervals);

    void add(u128 lo, u128 hi);
    void add(const IntervalSet& other);
    IntervalSet minus(const IntervalSet& other) const;
    IntervalSet intersect(const IntervalSet& other) const;
    bool empty() const { return parts_.empty(); }
    bool contains(u128 value) const;
    // True when every interval is a single value.
    bool all_singletons() const;
    u128 size_saturated() const;
    const std::vector<Interval>& parts() const { return parts_; }
    bool operator==(const IntervalSet&) const = default;

  private:
    // Adds an interval that starts at or after every part's start.
    void append(Interval next);

    std::vector<Interval> parts_;
};

// The `count` lowest bits set, for every count from 0 to 128: the host part of a prefix of
// width - count bits. (`(u128{1} << count) - 1` shifts by 128 for a /0 of IPv6.)
constexpr u128 low_bits(unsigned count) {
    return count == 0 ? u128{0} : ~u128{0} >> (128 - count);
}

// An aligned block of addresses: `length` leading bits of a width-bit space fixed.
struct Prefix {
    u128 base;
    unsigned length;
};

// The addresses a prefix covers, /0 and full width included.
constexpr Interval prefix_interval(Prefix prefix, unsigned width) {
    return {prefix.base, prefix.base | low_bits(width - prefix.length)};
}

// Splits [lo, hi] of a width-bit space into the fewest aligned prefixes (for address printing).
std::vector<Prefix> to_prefixes(Interval interval, unsigned width);

std::string format_ipv4(u128 value);
std::string format_ipv6(u128 value);
// An address of a width-bit space (32: IPv4, 128: IPv6).
std::string format_address(u128 value, unsigned width);

} // namespace acctc
