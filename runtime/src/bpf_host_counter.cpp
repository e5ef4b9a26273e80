#include "acctc/runtime/bpf_host_counter.hpp"

#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/errors.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <linux/if_ether.h>
#include <map>
#include <stdexcept>
#include <unistd.h>

namespace acctc::runtime {
namespace {

using namespace bpf;

// A host's counts as the program keeps them (for per-CPU maps, one of these per CPU).
struct Counts {
    std::uint64_t packets;
    std::uint64_t bytes;
};

constexpr std::uint8_t r0 = 0, r1 = 1, r2 = 2, r3 = 3, r4 = 4, r5 = 5, r6 = 6, r7 = 7, r8 = 8,
                       r9 = 9, r10 = 10;
// TCX_NEXT (TC_ACT_UNSPEC for tc): the packet goes on as if no program were there.
constexpr std::int32_t pass = -1;
// The frame: the key (16 bytes, IPv4's in the first 4), a new element's value, the overflow
// slot's index, the generation array's key.
constexpr std::int16_t key_at = -16, value_at = -32, slot_at = -36, generation_at = -40;

// A field of the Counts at `at` on the frame.
constexpr std::int16_t frame_field(std::int16_t at, std::size_t offset) {
    return static_cast<std::int16_t>(at + static_cast<std::int16_t>(offset));
}

// What each layout is made of, in one place.
struct MapFacts {
    BpfHostMap map;
    const char* name;
    bpf_map_type type;
    std::uint32_t flags;
    bool per_cpu;
    unsigned generations;
};
constexpr MapFacts map_facts[] = {
    {BpfHostMap::none, "none", BPF_MAP_TYPE_HASH, 0, false, 1},
    {BpfHostMap::hash, "hash", BPF_MAP_TYPE_HASH, 0, false, 1},
    {BpfHostMap::percpu_hash, "percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 0, true, 1},
    {BpfHostMap::lru_hash, "lru_hash", BPF_MAP_TYPE_LRU_HASH, 0, false, 1},
    {BpfHostMap::hash_no_prealloc, "hash_no_prealloc", BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, false,
     1},
    {BpfHostMap::hash_generations, "hash_generations", BPF_MAP_TYPE_HASH, 0, false, 2},
};
// A new layout without its row fails here (the last enumerator closes the list).
static_assert(std::size(map_facts) == static_cast<std::size_t>(BpfHostMap::hash_generations) + 1);

const MapFacts& facts(BpfHostMap map) {
    for (const auto& entry : map_facts) {
        if (entry.map == map) {
            return entry;
        }
    }
    throw std::logic_error("a BPF host map layout without facts");
}

bool per_cpu(BpfHostMap map) {
    return facts(map).per_cpu;
}

unsigned generations(BpfHostMap map) {
    return facts(map).generations;
}

// Adds one packet of r7 bytes to the Counts r0 points at: atomically where every CPU shares
// the element, plainly to this CPU's own (a softirq does not run twice at once on one CPU).
void emit_add(Assembler& program, BpfHostMap map) {
    if (per_cpu(map)) {
        program.emit(load(BPF_DW, r1, r0, offsetof(Counts, packets)));
        program.emit(add_imm(r1, 1));
        program.emit(store(BPF_DW, r0, offsetof(Counts, packets), r1));
        program.emit(load(BPF_DW, r1, r0, offsetof(Counts, bytes)));
        program.emit(add_reg(r1, r7));
        program.emit(store(BPF_DW, r0, offsetof(Counts, bytes), r1));
    } else {
        program.emit(mov_imm(r1, 1));
        program.emit(atomic_add64(r0, offsetof(Counts, packets), r1));
        program.emit(atomic_add64(r0, offsetof(Counts, bytes), r7));
    }
}

// The key is on the frame at key_at, the packet's L3 length in r7: find the host (or add it,
// or count it in the overflow slot) and add the packet. Ends at "out".
void emit_count(Assembler& program, BpfHostMap map, int hosts_fd, int overflow_fd, int slot,
                const std::string& name) {
    const auto lookup = [&](int map_fd, std::int16_t key) {
        program.load_map(r1, map_fd);
        program.emit(mov_reg(r2, r10));
        program.emit(add_imm(r2, key));
        program.emit(call(BPF_FUNC_map_lookup_elem));
    };
    lookup(hosts_fd, key_at);
    program.jump(jump_imm(BPF_JNE, r0, 0), name + "_add");
    // A new host: its element with this packet in it.
    program.emit(store_imm(BPF_DW, r10, frame_field(value_at, offsetof(Counts, packets)), 1));
    program.emit(store(BPF_DW, r10, frame_field(value_at, offsetof(Counts, bytes)), r7));
    program.load_map(r1, hosts_fd);
    program.emit(mov_reg(r2, r10));
    program.emit(add_imm(r2, key_at));
    program.emit(mov_reg(r3, r10));
    program.emit(add_imm(r3, value_at));
    program.emit(mov_imm(r4, BPF_NOEXIST));
    program.emit(call(BPF_FUNC_map_update_elem));
    program.jump(jump_imm(BPF_JEQ, r0, 0), "out");
    // Refused: another CPU added the same host since the lookup (EEXIST), so it is there
    // now; or the map is full (E2BIG) or has no memory for the element (ENOMEM).
    lookup(hosts_fd, key_at);
    program.jump(jump_imm(BPF_JNE, r0, 0), name + "_add");
    program.emit(store_imm(BPF_W, r10, slot_at, slot));
    lookup(overflow_fd, slot_at);
    program.jump(jump_imm(BPF_JEQ, r0, 0), "out");
    program.label(name + "_add");
    emit_add(program, map);
    program.jump(jump_always(), "out");
}

// The maps a program counts in.
struct ProgramMaps {
    std::array<int, 2> v4{-1, -1}; // per generation
    std::array<int, 2> v6{-1, -1};
    int overflow = -1;
    int generation = -1; // -1: one generation
};

// The key and length are in place: count in the family's map of the current generation.
void emit_count_generations(Assembler& program, BpfHostMap map, const ProgramMaps& maps,
                            bool ipv6) {
    const std::string family = ipv6 ? "v6" : "v4";
    const auto& hosts = ipv6 ? maps.v6 : maps.v4;
    const int family_slot = ipv6 ? 1 : 0;
    if (maps.generation < 0) {
        emit_count(program, map, hosts[0], maps.overflow, family_slot, family);
        return;
    }
    emit_first_element_lookup(program, maps.generation, generation_at, "out");
    program.emit(load(BPF_W, r8, r0, 0));
    program.jump(jump_imm(BPF_JNE, r8, 0), family + "_g1");
    emit_count(program, map, hosts[0], maps.overflow, family_slot, family + "_g0");
    program.label(family + "_g1");
    emit_count(program, map, hosts[1], maps.overflow, 2 + family_slot, family + "_g1c");
}

// dst = a 64-bit constant (BPF_LD_IMM64: two instructions).
void load_constant(Assembler& program, std::uint8_t dst, std::uint64_t value) {
    program.emit(insn(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, static_cast<std::int32_t>(value)));
    program.emit(insn(0, 0, 0, 0, static_cast<std::int32_t>(value >> 32)));
}

// `within`: the key on the frame goes on to "<family>_count" when its address is in one of the
// family's ranges, else "out" (uncounted, as nft's rules leave it). Uses r1, r2, r8, r9.
void emit_within(Assembler& program, const std::vector<BpfRange>& ranges, bool ipv6) {
    const std::string family = ipv6 ? "v6" : "v4";
    const std::string in = family + "_count";
    if (ipv6) {
        // The address as two 64-bit numbers in host order, high half first.
        program.emit(load(BPF_DW, r8, r10, key_at));
        program.emit(insn(BPF_ALU | BPF_END | BPF_TO_BE, r8, 0, 0, 64));
        program.emit(load(BPF_DW, r9, r10, key_at + 8));
        program.emit(insn(BPF_ALU | BPF_END | BPF_TO_BE, r9, 0, 0, 64));
    } else {
        program.emit(load(BPF_W, r9, r10, key_at));
        program.emit(insn(BPF_ALU | BPF_END | BPF_TO_BE, r9, 0, 0, 32));
    }
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        const BpfRange& range = ranges[i];
        const std::string next = family + "_within_" + std::to_string(i + 1);
        if (ipv6) {
            const std::string upper = family + "_within_hi_" + std::to_string(i);
            load_constant(program, r1, range.lo_high);
            load_constant(program, r2, range.lo_low);
            program.jump(jump_reg(BPF_JLT, r8, r1), next);
            program.jump(jump_reg(BPF_JGT, r8, r1), upper);
            program.jump(jump_reg(BPF_JLT, r9, r2), next);
            program.label(upper);
            load_constant(program, r1, range.hi_high);
            load_constant(program, r2, range.hi_low);
            program.jump(jump_reg(BPF_JGT, r8, r1), next);
            program.jump(jump_reg(BPF_JLT, r8, r1), in);
            program.jump(jump_reg(BPF_JGT, r9, r2), next);
        } else {
            // 32-bit compares: the immediates are the unsigned 32-bit addresses.
            program.jump(insn(BPF_JMP32 | BPF_JLT | BPF_K, r9, 0, 0,
                              static_cast<std::int32_t>(static_cast<std::uint32_t>(range.lo_low))),
                         next);
            program.jump(insn(BPF_JMP32 | BPF_JGT | BPF_K, r9, 0, 0,
                              static_cast<std::int32_t>(static_cast<std::uint32_t>(range.hi_low))),
                         next);
        }
        program.jump(jump_always(), in);
        program.label(next);
    }
    program.jump(jump_always(), "out");
    program.label(in);
}

// `split protocol`: the IP header at l3 of the frame r2 points at (r3 its end) is checked; the
// packet goes on when its protocol is `protocol`, else "out". IPv4's is at 9; IPv6's is the
// next header after the extension headers (a packet with more of them than the walk takes is
// not counted). Uses r4, r5, r8, r9.
void emit_protocol(Assembler& program, std::int16_t l3, std::uint8_t protocol, bool ipv6) {
    if (!ipv6) {
        program.emit(load(BPF_B, r4, r2, static_cast<std::int16_t>(l3 + 9)));
        program.jump(jump_imm(BPF_JNE, r4, protocol), "out");
        return;
    }
    emit_ipv6_extension_walk(program, l3, "v6", "out");
    program.jump(jump_imm(BPF_JNE, r4, protocol), "out");
}

std::vector<bpf_insn> host_program(BpfHostMap map, const ProgramMaps& maps, BpfHostKey key,
                                   unsigned link_header, const BpfHostFilter& filter = {}) {
    const bool source = key == BpfHostKey::source;
    Assembler program;
    if (map == BpfHostMap::none) {
        program.emit(mov_imm(r0, pass));
        program.emit(exit_program());
        return program.finish();
    }
    const auto l3 = static_cast<std::int16_t>(link_header);
    program.emit(mov_reg(r6, r1));
    if (filter.forwarded_only) {
        program.emit(load(BPF_W, r4, r6, offsetof(__sk_buff, ingress_ifindex)));
        program.jump(jump_imm(BPF_JEQ, r4, 0), "out");
    }
    emit_frame_dispatch(program);

    program.label("v4");
    emit_ip_header(program, l3, false);
    if (filter.protocol) {
        emit_protocol(program, l3, *filter.protocol, false);
    }
    program.emit(load(BPF_W, r1, r2, static_cast<std::int16_t>(l3 + ip_address_at(false, source))));
    program.emit(store(BPF_W, r10, key_at, r1));
    if (filter.within) {
        emit_within(program, filter.v4, false); // on the whole address, as nft's rule
    }
    emit_address_cut(program, key_at, filter.v4_prefix, false);
    emit_count_generations(program, map, maps, false);

    const auto v6_address = static_cast<std::int16_t>(l3 + ip_address_at(true, source));
    program.label("v6");
    emit_ip_header(program, l3, true);
    if (filter.protocol) {
        emit_protocol(program, l3, *filter.protocol, true);
    }
    program.emit(load(BPF_DW, r1, r2, v6_address));
    program.emit(store(BPF_DW, r10, key_at, r1));
    program.emit(load(BPF_DW, r1, r2, static_cast<std::int16_t>(v6_address + 8)));
    program.emit(store(BPF_DW, r10, key_at + 8, r1));
    if (filter.within) {
        emit_within(program, filter.v6, true);
    }
    emit_address_cut(program, key_at, filter.v6_prefix, true);
    emit_count_generations(program, map, maps, true);

    program.label("out");
    program.emit(mov_imm(r0, pass));
    program.emit(exit_program());
    return program.finish();
}

// The sum over CPUs of an element's values (one for shared maps).
Counts total(const std::uint8_t* value, std::uint32_t value_size) {
    Counts sum{0, 0};
    for (std::uint32_t at = 0; at < value_size; at += sizeof(Counts)) {
        Counts one{};
        std::memcpy(&one, value + at, sizeof one);
        sum.packets += one.packets;
        sum.bytes += one.bytes;
    }
    return sum;
}

} // namespace

std::string to_string(BpfHostMap map) {
    return facts(map).name;
}

BpfHostCounts to_prefixes(const BpfHostCounts& counts, unsigned v4_prefix, unsigned v6_prefix) {
    BpfHostCounts out;
    out.overflow_packets = counts.overflow_packets;
    out.overflow_bytes = counts.overflow_bytes;
    std::map<std::pair<bool, std::array<std::uint8_t, 16>>, std::size_t> index;
    for (BpfHostCount host : counts.hosts) {
        const unsigned prefix = host.ipv6 ? v6_prefix : v4_prefix;
        for (unsigned bit = prefix; bit < (host.ipv6 ? 128U : 32U); ++bit) {
            host.address[bit / 8] &= static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
        }
        const auto [at, added] = index.try_emplace({host.ipv6, host.address}, out.hosts.size());
        if (added) {
            out.hosts.push_back(host);
        } else {
            out.hosts[at->second].packets += host.packets;
            out.hosts[at->second].bytes += host.bytes;
        }
    }
    return out;
}

BpfHostCounter::BpfHostCounter(BpfHostMap map, std::uint32_t max_hosts, BpfHostKey key,
                               unsigned link_header)
    : map_(map) {
    if (map != BpfHostMap::none) {
        value_size_ = sizeof(Counts) * (per_cpu(map) ? possible_cpus() : 1);
        const std::uint32_t flags = facts(map).flags;
        ProgramMaps maps;
        for (unsigned g = 0; g < generations(map); ++g) {
            hosts_v4_[g] = create_map(
                {facts(map).type, 4, sizeof(Counts), max_hosts, flags, "acctc_hosts_v4"});
            hosts_v6_[g] = create_map(
                {facts(map).type, 16, sizeof(Counts), max_hosts, flags, "acctc_hosts_v6"});
            maps.v4[g] = hosts_v4_[g].get();
            maps.v6[g] = hosts_v6_[g].get();
        }
        overflow_ = create_map({per_cpu(map) ? BPF_MAP_TYPE_PERCPU_ARRAY : BPF_MAP_TYPE_ARRAY, 4,
                                sizeof(Counts), 4, 0, "acctc_overflow"});
        maps.overflow = overflow_.get();
        if (generations(map) > 1) {
            generation_ = create_map({BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "acctc_generation"});
            maps.generation = generation_.get();
        }
        program_ = load_sched_cls(host_program(map, maps, key, link_header), "acctc_hosts");
    } else {
        program_ = load_sched_cls(host_program(map, {}, key, link_header), "acctc_hosts");
    }
}

BpfHostCounter BpfHostCounter::pinned(const std::string& dir, std::uint32_t max_hosts,
                                      BpfHostKey key, bool program, unsigned link_header,
                                      const BpfHostFilter& filter) {
    BpfHostCounter counter;
    counter.map_ = BpfHostMap::hash_generations;
    counter.value_size_ = sizeof(Counts);
    // The pinned map at dir/name, or a new one pinned there.
    const auto open = [&](const std::string& name, const MapSpec& spec) {
        const std::string path = dir + "/" + name;
        if (::access(path.c_str(), F_OK) == 0) {
            return bpf::pinned(path);
        }
        UniqueFd map = create_map(spec);
        pin(map.get(), path);
        return map;
    };
    ProgramMaps maps;
    for (unsigned g = 0; g < 2; ++g) {
        const std::string suffix = "_g" + std::to_string(g);
        counter.hosts_v4_[g] = open(
            "v4" + suffix, {BPF_MAP_TYPE_HASH, 4, sizeof(Counts), max_hosts, 0, "acctc_hosts_v4"});
        counter.hosts_v6_[g] = open(
            "v6" + suffix, {BPF_MAP_TYPE_HASH, 16, sizeof(Counts), max_hosts, 0, "acctc_hosts_v6"});
        maps.v4[g] = counter.hosts_v4_[g].get();
        maps.v6[g] = counter.hosts_v6_[g].get();
    }
    counter.overflow_ =
        open("overflow", {BPF_MAP_TYPE_ARRAY, 4, sizeof(Counts), 4, 0, "acctc_overflow"});
    counter.generation_ = open("generation", {BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "acctc_generation"});
    maps.overflow = counter.overflow_.get();
    maps.generation = counter.generation_.get();
    counter.current_ = counter.current();
    if (program) {
        counter.program_ = load_sched_cls(
            host_program(BpfHostMap::hash_generations, maps, key, link_header, filter),
            "acctc_hosts");
    }
    return counter;
}

void BpfHostCounter::attach_pinned(const std::string& path, int ifindex, bool ingress) {
    if (::access(path.c_str(), F_OK) == 0) {
        UniqueFd link = bpf::pinned(path);
        try {
            update_link(link.get(), program_.get());
            return;
        } catch (const RuntimeError&) {
            // The device went (ENOLINK): a new link below, pinned in its place.
        }
    }
    UniqueFd link = attach_tcx(program_.get(), ifindex, ingress);
    pin_over(link.get(), path);
}

unsigned BpfHostCounter::current() const {
    if (!generation_.valid()) {
        return current_;
    }
    const auto element = read_map(generation_.get(), 4, 4);
    std::uint32_t generation = 0;
    if (element.count > 0) {
        std::memcpy(&generation, element.values.data(), sizeof generation);
    }
    return generation == 0 ? 0 : 1;
}

void BpfHostCounter::attach(int ifindex, bool ingress) {
    link_ = attach_tcx(program_.get(), ifindex, ingress);
}

BpfHostCounts BpfHostCounter::read() const {
    return read(current(), false);
}

BpfHostCounts BpfHostCounter::read_and_delete() {
    if (generations(map_) == 1) {
        return read(0, true);
    }
    // Count in the other generation from now on; once no program still runs that read the
    // old number, nothing writes to the old generation's maps: read and empty them at leisure.
    const unsigned old = current();
    const std::uint32_t next = 1 - old;
    const std::uint32_t key = 0;
    update_element(generation_.get(), &key, &next);
    current_ = next;
    wait_for_running_programs();
    return read(old, true);
}

BpfHostCounts BpfHostCounter::read(unsigned generation, bool and_delete) const {
    BpfHostCounts out;
    if (map_ == BpfHostMap::none) {
        return out;
    }
    for (const bool ipv6 : {false, true}) {
        const std::uint32_t key_size = ipv6 ? 16 : 4;
        const auto elements = read_map((ipv6 ? hosts_v6_ : hosts_v4_)[generation].get(), key_size,
                                       value_size_, and_delete);
        for (std::size_t i = 0; i < elements.count; ++i) {
            BpfHostCount host;
            host.ipv6 = ipv6;
            std::memcpy(host.address.data(), elements.keys.data() + i * key_size, key_size);
            const Counts counts = total(elements.values.data() + i * value_size_, value_size_);
            host.packets = counts.packets;
            host.bytes = counts.bytes;
            out.hosts.push_back(host);
        }
    }
    // The generation's overflow slots. An array's elements cannot be deleted, only
    // overwritten: with one generation a packet landing there between the read and the zeroing
    // is lost (as with the delete above); with two, nothing writes there any more.
    const auto slots = read_map(overflow_.get(), 4, value_size_);
    const std::vector<std::uint8_t> zero(value_size_, 0);
    for (std::uint32_t slot = 2 * generation; slot < 2 * generation + 2; ++slot) {
        const Counts counts = total(slots.values.data() + slot * value_size_, value_size_);
        out.overflow_packets += counts.packets;
        out.overflow_bytes += counts.bytes;
        if (and_delete) {
            update_element(overflow_.get(), &slot, zero.data());
        }
    }
    return out;
}

void BpfHostCounter::fill(const std::vector<BpfHostCount>& hosts) {
    if (map_ == BpfHostMap::none) {
        return;
    }
    for (const bool ipv6 : {false, true}) {
        const std::uint32_t key_size = ipv6 ? 16 : 4;
        std::vector<std::uint8_t> keys;
        std::vector<std::uint8_t> values;
        std::size_t count = 0;
        for (const auto& host : hosts) {
            if (host.ipv6 != ipv6) {
                continue;
            }
            keys.insert(keys.end(), host.address.begin(), host.address.begin() + key_size);
            // All on the first CPU's value: what one CPU's packets would have left.
            std::vector<std::uint8_t> value(value_size_, 0);
            const Counts counts{host.packets, host.bytes};
            std::memcpy(value.data(), &counts, sizeof counts);
            values.insert(values.end(), value.begin(), value.end());
            ++count;
        }
        if (count > 0) {
            update_map((ipv6 ? hosts_v6_ : hosts_v4_)[current_].get(), keys, values, count);
        }
    }
}

void BpfHostCounter::carry(const BpfHostCounts& counts) {
    if (map_ == BpfHostMap::none) {
        return;
    }
    Counts overflow{counts.overflow_packets, counts.overflow_bytes};
    std::vector<std::uint8_t> value(value_size_, 0); // all on the first CPU's value
    for (const auto& host : counts.hosts) {
        const Counts element{host.packets, host.bytes};
        std::memcpy(value.data(), &element, sizeof element);
        try {
            update_element((host.ipv6 ? hosts_v6_ : hosts_v4_)[current_].get(), host.address.data(),
                           value.data());
        } catch (const RuntimeError&) {
            overflow.packets += host.packets; // E2BIG: the map is full
            overflow.bytes += host.bytes;
        }
    }
    if (overflow.packets == 0 && overflow.bytes == 0) {
        return;
    }
    const std::uint32_t slot = 2 * current_; // the IPv4 slot: the readings add both families'
    const auto slots = read_map(overflow_.get(), 4, value_size_);
    const Counts old = total(slots.values.data() + slot * value_size_, value_size_);
    const Counts sum{old.packets + overflow.packets, old.bytes + overflow.bytes};
    std::fill(value.begin(), value.end(), 0);
    std::memcpy(value.data(), &sum, sizeof sum);
    update_element(overflow_.get(), &slot, value.data());
}

} // namespace acctc::runtime
