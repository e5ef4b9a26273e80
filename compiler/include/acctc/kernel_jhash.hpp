// The kernel's jhash (include/linux/jhash.h, Bob Jenkins' lookup3) and nft's `jhash EXPR mod N
// seed S` on top of it (net/netfilter/nft_hash.c), so that the compiler can place a key in the
// part a packet with that key is sent to. The kernel reads the key's 32-bit words in the CPU's
// byte order, as this code does: compile on a machine of the byte order the ruleset runs on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace acctc {

namespace jhash_detail {

constexpr std::uint32_t rol32(std::uint32_t word, unsigned shift) {
    return (word << shift) | (word >> (32 - shift));
}

inline std::uint32_t word(const unsigned char* bytes) {
    std::uint32_t value = 0;
    std::memcpy(&value, bytes, sizeof value);
    return value;
}

} // namespace jhash_detail

inline std::uint32_t kernel_jhash(const unsigned char* key, std::size_t length,
                                  std::uint32_t initval) {
    using jhash_detail::rol32;
    using jhash_detail::word;
    std::uint32_t a = 0xdeadbeef + static_cast<std::uint32_t>(length) + initval;
    std::uint32_t b = a;
    std::uint32_t c = a;
    while (length > 12) {
        a += word(key);
        b += word(key + 4);
        c += word(key + 8);
        a -= c, a ^= rol32(c, 4), c += b;
        b -= a, b ^= rol32(a, 6), a += c;
        c -= b, c ^= rol32(b, 8), b += a;
        a -= c, a ^= rol32(c, 16), c += b;
        b -= a, b ^= rol32(a, 19), a += c;
        c -= b, c ^= rol32(b, 4), b += a;
        length -= 12;
        key += 12;
    }
    if (length == 0) {
        return c;
    }
    // The tail, as the kernel's switch falls through from `length` down to 1.
    std::uint32_t tail[3] = {0, 0, 0};
    for (std::size_t i = 0; i < length; ++i) {
        tail[i / 4] += static_cast<std::uint32_t>(key[i]) << (8 * (i % 4));
    }
    a += tail[0];
    b += tail[1];
    c += tail[2];
    c ^= b, c -= rol32(b, 14);
    a ^= c, a -= rol32(c, 11);
    b ^= a, b -= rol32(a, 25);
    c ^= b, c -= rol32(b, 16);
    a ^= c, a -= rol32(c, 4);
    b ^= a, b -= rol32(a, 14);
    c ^= b, c -= rol32(b, 24);
    return c;
}

// nft's `jhash ... mod modulus seed seed`: reciprocal_scale() of the hash.
inline std::uint32_t nft_jhash(const unsigned char* key, std::size_t length, std::uint32_t seed,
                               std::uint32_t modulus) {
    return static_cast<std::uint32_t>(
        (static_cast<std::uint64_t>(kernel_jhash(key, length, seed)) * modulus) >> 32);
}

} // namespace acctc
