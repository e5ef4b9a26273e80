// Stage 3b (nft only): large classifications as element counters. A classify map of
// element_counter_threshold or more single-point keys is counted by the elements of constant
// sets with `counter` (one element per key) instead of by named counter objects: the runtime
// reads each set with one NFT_MSG_GETSETELEM dump, where 100,000 counter objects cost the kernel
// ~2.5 µs each (docs/performance.md, "Reading 100,000 counters"). Up to a bound the map is one
// set; above it, small sets, and the packet finds its set by the kernel's jhash of the key: the
// compiler partitions the keys the same way.
#pragma once

#include "rules.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace acctc {

// Maps with fewer keys keep their counter objects (and the goldens their text).
inline constexpr std::size_t element_counter_threshold = 4096;
// At most this many keys per part on average (parts are a power of two, so 256-512 on
// average): a part's dump takes two or three 32 KiB replies (~200 elements with their comments
// each). Fewer, larger dumps cost the kernel less than one reply per set: 100,000 elements in
// 256 sets take ~65 ms of the kernel's time, in 1,024 sets of ~100 ~85 ms (each dump finds its
// set by name among all the table's sets; docs/performance.md, "Reading 100,000 counters:
// fewer dumps, fewer copies").
inline constexpr std::size_t element_counter_part_keys = 512;

// The bytes the kernel hashes for this key (its fields as they lie in nft's registers: payload
// in network byte order, meta values in the CPU's; concatenated fields each padded to 4 bytes).
// A string, as CompiledPolicy keeps them: most keys fit its inline buffer (no allocation).
std::string hashed_key(const std::vector<rules::Field>& key, const std::vector<Interval>& point);

// The part (0 .. parts-1) `jhash KEY mod parts seed 0x0` sends a packet of this key to, given
// the key's hashed_key().
std::uint32_t key_part(std::string_view hashed, std::uint32_t parts);

// Rewrites every eligible map: the rule `CONDS counter name KEY map {...} return` of chain C
// becomes `CONDS jhash KEY mod K seed 0x0 vmap { i : goto C_p<i> }`; chain C_p<i> is
// `KEY @C_e<i> return` (the element counts the packet) and, when C had rules after the map's,
// `goto C_miss`, a chain of those rules (a key in no part misses as it missed the map). The
// classes' counters become `element` counters when no other rule counts into them.
// A map of at most `one_set_keys` keys is one set instead: its rule becomes
// `CONDS KEY @C_e0 return` in place, without a dispatch (what the dispatch costs a packet:
// docs/performance.md, "Element counters: one set up to 16,384 keys").
void use_element_counters(rules::Table& table, std::size_t one_set_keys);

// The nft type of a counting set's key field (`inet_service`, `inet_proto`, `ipv4_addr`, ...).
const char* counting_set_type(rules::Field field);

// The comment of an element counting for `counter`: its name, a space, then the counter's
// comment (acctc/counter_labels.hpp), cut to nft's 128 bytes as a whole.
std::string element_comment(const rules::CounterObject& counter);

} // namespace acctc
