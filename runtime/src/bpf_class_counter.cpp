#include "acctc/runtime/bpf_class_counter.hpp"

#include "acctc/runtime/errors.hpp"

#include <cstddef>
#include <cstring>
#include <unistd.h>

namespace acctc::runtime {
namespace {

using namespace bpf;

constexpr std::uint8_t r0 = 0, r1 = 1, r4 = 4, r6 = 6, r7 = 7, r9 = 9;
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

struct Maps {
    int owners;
    int counts;
    int generation;
};

std::vector<bpf_insn> class_program(const Maps& maps, unsigned link_header, bool forwarded_only) {
    const auto l3 = static_cast<std::int16_t>(link_header);
    Assembler program;
    program.emit(mov_reg(r6, r1));
    if (forwarded_only) {
        program.emit(load(BPF_W, r4, r6, offsetof(__sk_buff, ingress_ifindex)));
        program.jump(jump_imm(BPF_JEQ, r4, 0), "out");
    }
    emit_frame_dispatch(program);

    emit_port_slot(program, l3);

    // The slot's class (none: not counted), in the current generation's half of the counts.
    program.label("slot");
    emit_element_lookup(program, maps.owners, r9, slot_at, "out");
    program.emit(load(BPF_W, r9, r0, 0));
    program.jump(jump_imm(BPF_JEQ, r9, 0), "out");
    emit_first_element_lookup(program, maps.generation, generation_at, "out");
    program.emit(load(BPF_W, r1, r0, 0));
    program.jump(jump_imm(BPF_JEQ, r1, 0), "count");
    program.emit(add_imm(r9, static_cast<std::int32_t>(BpfClassCounter::capacity)));
    program.label("count");
    emit_element_lookup(program, maps.counts, r9, slot_at, "out");
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
    out.owners_ =
        open_or_create(dir / "owners",
                       {BPF_MAP_TYPE_ARRAY, 4, 4, static_cast<std::uint32_t>(BpfPortSlots::count),
                        BPF_F_MMAPABLE, "acctc_owners"},
                       create);
    out.counts_ = open_or_create(dir / "counts",
                                 {BPF_MAP_TYPE_ARRAY, 4, sizeof(BpfClassCounts),
                                  static_cast<std::uint32_t>(counts_entries), BPF_F_MMAPABLE,
                                  "acctc_classes"},
                                 create);
    out.generation_ = open_or_create(dir / "generation",
                                     {BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "acctc_generation"}, create);
    out.owners_mapped_ =
        MappedArray(out.owners_.get(), page_rounded(BpfPortSlots::count * owner_stride));
    out.counts_mapped_ =
        MappedArray(out.counts_.get(), page_rounded(counts_entries * sizeof(BpfClassCounts)));
    return out;
}

UniqueFd BpfClassCounter::program(unsigned link_header, bool forwarded_only) const {
    return load_sched_cls(class_program({owners_.get(), counts_.get(), generation_.get()},
                                        link_header, forwarded_only),
                          "acctc_classes");
}

void BpfClassCounter::set_owners(const std::vector<std::uint32_t>& owners) {
    if (owners.size() != BpfPortSlots::count) {
        throw RuntimeError(ErrorKind::rejected, "internal: a slot owner list of the wrong size");
    }
    // Each slot is one aligned 32-bit store: a packet reads its old owner or its new one.
    std::uint8_t* slots = owners_mapped_.data();
    for (std::size_t slot = 0; slot < owners.size(); ++slot) {
        *reinterpret_cast<volatile std::uint32_t*>(slots + slot * owner_stride) = owners[slot];
    }
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
