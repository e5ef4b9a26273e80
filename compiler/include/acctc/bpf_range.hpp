// An inclusive range of a value of up to 128 bits (an IPv6 or IPv4 address, a port, a protocol)
// as two 64-bit halves, high then low, as the BPF programs compare it (narrower values use the
// low halves only; IPv4 addresses are in the low 32 bits): one type for every plan that hands a
// program ranges (per-host counters' `within`, the wire correction's conditions).
#pragma once

#include <cstdint>

namespace acctc {

struct BpfRange {
    std::uint64_t lo_high = 0;
    std::uint64_t lo_low = 0;
    std::uint64_t hi_high = 0;
    std::uint64_t hi_low = 0;
    friend bool operator==(const BpfRange&, const BpfRange&) = default;
};

} // namespace acctc
