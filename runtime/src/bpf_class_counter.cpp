#include "acctc/runtime/bpf_class_counter.hpp"

#include "acctc/runtime/errors.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <set>
#include <unistd.h>

namespace acctc::runtime {
namespace {

using namespace bpf;

constexpr std::uint8_t r0 = 0, r1 = 1, r2 = 2, r4 = 4, r6 = 6, r7 = 7, r9 = 9, r10 = 10;
constexpr std::int32_t pass = -1; // TCX_NEXT: the packet goes on as if no program were there
constexpr std::int16_t slot_at = -4, generation_at = -8;

constexpr std::size_t counts_entries = 2 * std::size_t{BpfClassCounter::capacity};
// An array map's elements lie 8-byte aligned (the kernel rounds value_size up): a 32-bit owner
// takes 8 bytes of the mapped memory.
constexpr std::size_t owner_stride = 8;

std::size_t page_rounded(std::size_t bytes) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

// The key of the prefixes' map (hash table or trie): the prefix length in bits of what follows
// (the family's tag and the address), the family's tag (so that an IPv4 prefix never holds an
// IPv6 address), the address (in the hash table cut to the length, the rest zero).
struct PrefixKey {
    std::uint32_t length;
    std::uint32_t family;
    std::uint8_t address[16];
};
constexpr std::uint32_t tag_bits = 32;
constexpr std::uint32_t family_v4 = 4, family_v6 = 6;
constexpr std::int16_t key_at = -32; // a PrefixKey on the frame, 8-byte aligned

constexpr std::int16_t field_at(std::size_t offset) {
    return static_cast<std::int16_t>(key_at + static_cast<std::int16_t>(offset));
}

// Each family's tag, its address words, its labels' prefix.
struct FamilyFacts {
    std::uint32_t tag;
    bool ipv6;
    int words;        // 32-bit words of the address
    const char* name; // its labels' prefix
};
constexpr FamilyFacts families[] = {{family_v4, false, 1, "v4"}, {family_v6, true, 4, "v6"}};

// After emit_frame_dispatch: the key's address of the packet, its family's tag and full length
// on the frame at key_at, its L3 length (the header's own field, what nft's counter counts) in
// r7; then on at "v4_lookup" or "v6_lookup". A packet too short for its IP header goes "out"
// (the stack drops it before nft's hooks).
void emit_address_key(Assembler& program, std::int16_t l3, BpfKey key) {
    if (key == BpfKey::destination_port) {
        throw RuntimeError(ErrorKind::rejected, "internal: a class lookup by no address");
    }
    for (const FamilyFacts& family : families) {
        const std::int16_t address = ip_address_at(family.ipv6, key == BpfKey::source_address);
        program.label(family.name);
        emit_ip_header(program, l3, family.ipv6);
        program.emit(store_imm(BPF_W, r10, field_at(offsetof(PrefixKey, length)),
                               static_cast<std::int32_t>(tag_bits + 32 * family.words)));
        program.emit(store_imm(BPF_W, r10, field_at(offsetof(PrefixKey, family)),
                               static_cast<std::int32_t>(family.tag)));
        for (int word = 0; word < 4; ++word) {
            const std::int16_t to = field_at(offsetof(PrefixKey, address) + 4 * word);
            if (word < family.words) {
                program.emit(
                    load(BPF_W, r1, r2, static_cast<std::int16_t>(l3 + address + 4 * word)));
                program.emit(store(BPF_W, r10, to, r1));
            } else {
                program.emit(store_imm(BPF_W, r10, to, 0)); // the verifier wants the key whole
            }
        }
        program.jump(jump_always(), std::string(family.name) + "_lookup");
    }
}

// r0 = the owners' element for the key on the frame; on to `found` where there is one.
void emit_key_lookup(Assembler& program, int owners, const std::string& found) {
    program.load_map(r1, owners);
    program.emit(mov_reg(r2, r10));
    program.emit(add_imm(r2, key_at));
    program.emit(call(BPF_FUNC_map_lookup_elem));
    program.jump(jump_imm(BPF_JNE, r0, 0), found);
}

// The key on the frame cut to `length` bits of the family's address (the words past it zero),
// its length field saying so: cut to each length in turn, longest first, as the hash table's
// keys are.
void emit_cut(Assembler& program, const FamilyFacts& family, unsigned length) {
    program.emit(store_imm(BPF_W, r10, field_at(offsetof(PrefixKey, length)),
                           static_cast<std::int32_t>(tag_bits + length)));
    emit_address_cut(program, field_at(offsetof(PrefixKey, address)), length, family.ipv6);
}

// The class index of the packet's address in r9, then on at "class": the longest prefix's in
// the owners, else `otherwise`'s.
void emit_prefix_lookup(Assembler& program, const BpfClassLookup& lookup) {
    for (const FamilyFacts& family : families) {
        program.label(std::string(family.name) + "_lookup");
        if (!lookup.by_length) {
            emit_key_lookup(program, lookup.owners, "found");
        } else {
            for (const unsigned length : lookup.lengths[family.ipv6]) {
                emit_cut(program, family, length);
                emit_key_lookup(program, lookup.owners, "found");
            }
        }
        program.emit(mov_imm(r9, static_cast<std::int32_t>(lookup.otherwise)));
        program.jump(jump_always(), "class");
    }
    program.label("found");
    program.emit(load(BPF_W, r9, r0, 0));
    program.label("class");
}

std::vector<bpf_insn> class_program(const BpfClassLookup& lookup, int counts, int generation,
                                    unsigned link_header, bool forwarded_only) {
    const auto l3 = static_cast<std::int16_t>(link_header);
    Assembler program;
    program.emit(mov_reg(r6, r1));
    if (forwarded_only) {
        program.emit(load(BPF_W, r4, r6, offsetof(__sk_buff, ingress_ifindex)));
        program.jump(jump_imm(BPF_JEQ, r4, 0), "out");
    }
    emit_frame_dispatch(program);

    if (lookup.key == BpfKey::destination_port) {
        // The slot's class (none: not counted).
        emit_port_slot(program, l3);
        program.label("slot");
        emit_element_lookup(program, lookup.owners, r9, slot_at, "out");
        program.emit(load(BPF_W, r9, r0, 0));
    } else {
        // The longest prefix's class; in none, `otherwise`'s.
        emit_address_key(program, l3, lookup.key);
        emit_prefix_lookup(program, lookup);
    }

    // The class's element in the current generation's half of the counts.
    program.jump(jump_imm(BPF_JEQ, r9, 0), "out");
    emit_first_element_lookup(program, generation, generation_at, "out");
    program.emit(load(BPF_W, r1, r0, 0));
    program.jump(jump_imm(BPF_JEQ, r1, 0), "count");
    program.emit(add_imm(r9, static_cast<std::int32_t>(BpfClassCounter::capacity)));
    program.label("count");
    emit_element_lookup(program, counts, r9, slot_at, "out");
    program.emit(mov_imm(r1, 1));
    program.emit(atomic_add64(r0, offsetof(BpfClassCounts, packets), r1));
    program.emit(atomic_add64(r0, offsetof(BpfClassCounts, bytes), r7));

    program.label("out");
    program.emit(mov_imm(r0, pass));
    program.emit(exit_program());
    return program.finish();
}

UniqueFd open_or_create(const std::filesystem::path& path, const MapSpec& spec, bool create) {
    if (std::filesystem::exists(path)) {
        return pinned(path);
    }
    if (!create) {
        throw RuntimeError(ErrorKind::unknown_table, "no BPF classes pinned at " + path.string());
    }
    UniqueFd map = create_map(spec);
    pin(map.get(), path);
    return map;
}

} // namespace

BpfClassCounter BpfClassCounter::pinned(const std::filesystem::path& dir, bool create) {
    BpfClassCounter out;
    out.counts_ = open_or_create(dir / "counts",
                                 {BPF_MAP_TYPE_ARRAY, 4, sizeof(BpfClassCounts),
                                  static_cast<std::uint32_t>(counts_entries), BPF_F_MMAPABLE,
                                  "acctc_classes"},
                                 create);
    out.generation_ = open_or_create(dir / "generation",
                                     {BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "acctc_generation"}, create);
    out.counts_mapped_ =
        MappedArray(out.counts_.get(), page_rounded(counts_entries * sizeof(BpfClassCounts)));
    return out;
}

UniqueFd BpfClassCounter::program(const BpfClassLookup& lookup, unsigned link_header,
                                  bool forwarded_only) const {
    return load_sched_cls(
        class_program(lookup, counts_.get(), generation_.get(), link_header, forwarded_only),
        "acctc_classes");
}

UniqueFd bpf_slot_owners(const std::vector<std::uint32_t>& owners, BpfClassLookup& lookup) {
    if (owners.size() != BpfPortSlots::count) {
        throw RuntimeError(ErrorKind::rejected, "internal: a slot owner list of the wrong size");
    }
    UniqueFd map = create_map({BPF_MAP_TYPE_ARRAY, 4, 4, static_cast<std::uint32_t>(owners.size()),
                               BPF_F_MMAPABLE, "acctc_owners"});
    const MappedArray mapped(map.get(), page_rounded(owners.size() * owner_stride));
    for (std::size_t slot = 0; slot < owners.size(); ++slot) {
        std::memcpy(mapped.data() + slot * owner_stride, &owners[slot], sizeof owners[slot]);
    }
    lookup.owners = map.get();
    return map;
}

UniqueFd bpf_prefix_owners(const std::vector<std::pair<BpfPrefix, std::uint32_t>>& owners,
                           BpfClassLookup& lookup) {
    std::set<unsigned, std::greater<>> lengths[2];
    for (const auto& [prefix, index] : owners) {
        lengths[prefix.ipv6].insert(prefix.length);
    }
    lookup.by_length =
        lengths[0].size() <= max_hashed_lengths && lengths[1].size() <= max_hashed_lengths;
    for (int v6 = 0; v6 < 2; ++v6) {
        lookup.lengths[v6].assign(lengths[v6].begin(), lengths[v6].end());
    }
    // An LPM trie must not be preallocated; either wants at least one entry of room.
    const auto room = static_cast<std::uint32_t>(std::max<std::size_t>(owners.size(), 1));
    UniqueFd map =
        create_map(lookup.by_length
                       ? MapSpec{BPF_MAP_TYPE_HASH, sizeof(PrefixKey), 4, room, 0, "acctc_prefixes"}
                       : MapSpec{BPF_MAP_TYPE_LPM_TRIE, sizeof(PrefixKey), 4, room,
                                 BPF_F_NO_PREALLOC, "acctc_prefixes"});
    for (const auto& [prefix, index] : owners) {
        PrefixKey key{};
        key.length = tag_bits + prefix.length;
        key.family = prefix.ipv6 ? family_v6 : family_v4;
        std::memcpy(key.address, prefix.address.data(), sizeof key.address);
        update_element(map.get(), &key, &index);
    }
    lookup.owners = map.get();
    return map;
}

namespace {

// The counts of the program's array, as it adds to them (two 64-bit fields per element).
const volatile std::uint64_t* fields(const MappedArray& counts) {
    return reinterpret_cast<const volatile std::uint64_t*>(counts.data());
}

} // namespace

std::vector<BpfClassCounts> BpfClassCounter::read() const {
    std::vector<BpfClassCounts> out(capacity);
    const volatile std::uint64_t* counts = fields(counts_mapped_);
    for (std::size_t generation = 0; generation < 2; ++generation) {
        for (std::size_t index = 0; index < capacity; ++index) {
            const std::size_t at = 2 * (generation * capacity + index);
            out[index].packets += counts[at];
            out[index].bytes += counts[at + 1];
        }
    }
    return out;
}

std::uint32_t BpfClassCounter::generation() const {
    const auto element = read_map(generation_.get(), 4, 4);
    std::uint32_t generation = 0;
    if (element.count != 0) {
        std::memcpy(&generation, element.values.data(), sizeof generation);
    }
    return generation == 0 ? 0 : 1;
}

std::vector<BpfClassCounts> BpfClassCounter::read_and_reset() {
    // Count in the other generation from now on; once no program still runs that read the old
    // number, nothing adds to the old generation: read it and empty it.
    const std::uint32_t old = generation();
    const std::uint32_t next = 1 - old;
    const std::uint32_t key = 0;
    update_element(generation_.get(), &key, &next);
    wait_for_running_programs();
    auto* counts = reinterpret_cast<volatile std::uint64_t*>(counts_mapped_.data());
    std::vector<BpfClassCounts> out(capacity);
    for (std::size_t index = 0; index < capacity; ++index) {
        const std::size_t at = 2 * (old * capacity + index);
        out[index] = {counts[at], counts[at + 1]};
        counts[at] = 0;
        counts[at + 1] = 0;
    }
    return out;
}

void BpfClassCounter::start(const std::map<std::uint32_t, BpfClassCounts>& starts) {
    auto* counts = reinterpret_cast<volatile std::uint64_t*>(counts_mapped_.data());
    const std::uint32_t current = generation();
    for (const auto& [index, value] : starts) {
        if (index == 0 || index >= capacity) {
            throw RuntimeError(ErrorKind::rejected, "internal: a class index out of range");
        }
        for (std::uint32_t generation = 0; generation < 2; ++generation) {
            const std::size_t at = 2 * (generation * capacity + index);
            const bool here = generation == current;
            counts[at] = here ? value.packets : 0;
            counts[at + 1] = here ? value.bytes : 0;
        }
    }
}

} // namespace acctc::runtime
