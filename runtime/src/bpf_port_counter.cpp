#include "acctc/runtime/bpf_port_counter.hpp"

#include "acctc/runtime/bpf.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <linux/if_ether.h>
#include <stdexcept>

namespace acctc::runtime {
namespace {

using namespace bpf;

constexpr std::uint8_t r0 = 0, r1 = 1, r2 = 2, r3 = 3, r4 = 4, r5 = 5, r6 = 6, r7 = 7, r8 = 8,
                       r9 = 9, r10 = 10;
constexpr std::int32_t pass = -1; // TCX_NEXT: the packet goes on as if no program were there
constexpr std::int16_t slot_at = -4;
constexpr std::uint8_t tcp = 6, udp = 17;

// r2 = data, r3 = data_end. Each family leaves r7 = the L3 length (the header's own field),
// r4 = the protocol, r8 = the L4 header's offset from the IP header; a packet too short for its
// IP header goes "out" uncounted (the stack drops it before nft's hooks), one without ports
// (IPv4 fragments past the first) to "other".
std::vector<bpf_insn> port_program(int slots_fd, unsigned link_header) {
    const auto l3 = static_cast<std::int16_t>(link_header);
    Assembler program;
    program.emit(mov_reg(r6, r1));
    emit_frame_dispatch(program);

    const auto header_there = [&](std::int16_t bytes) {
        program.emit(mov_reg(r5, r2));
        program.emit(add_imm(r5, l3 + bytes));
        program.jump(jump_reg(BPF_JGT, r5, r3), "out");
    };
    // IPv4: total length at 2, fragment offset at 6 (13 bits), protocol at 9, IHL in byte 0.
    program.label("v4");
    header_there(20);
    program.emit(load(BPF_H, r7, r2, static_cast<std::int16_t>(l3 + 2)));
    program.emit(be16_to_host(r7));
    program.emit(load(BPF_B, r4, r2, static_cast<std::int16_t>(l3 + 9)));
    program.emit(load(BPF_H, r8, r2, static_cast<std::int16_t>(l3 + 6)));
    program.emit(be16_to_host(r8));
    program.emit(alu_imm(BPF_AND, r8, 0x1fff));
    program.jump(jump_imm(BPF_JNE, r8, 0), "other");
    program.emit(load(BPF_B, r8, r2, l3));
    program.emit(alu_imm(BPF_AND, r8, 0x0f));
    program.emit(alu_imm(BPF_LSH, r8, 2));
    program.jump(jump_always(), "ports");

    // IPv6: payload length at 4 (the 40-byte header not included), next header at 6.
    program.label("v6");
    header_there(40);
    program.emit(load(BPF_H, r7, r2, static_cast<std::int16_t>(l3 + 4)));
    program.emit(be16_to_host(r7));
    program.emit(add_imm(r7, 40));
    program.emit(load(BPF_B, r4, r2, static_cast<std::int16_t>(l3 + 6)));
    program.emit(mov_imm(r8, 40));

    // The slot: the protocol's block plus the destination port (at 2 in both L4 headers).
    program.label("ports");
    program.emit(mov_imm(r9, 0));
    program.jump(jump_imm(BPF_JEQ, r4, tcp), "port");
    program.emit(mov_imm(r9, static_cast<std::int32_t>(BpfPortCounter::ports)));
    program.jump(jump_imm(BPF_JEQ, r4, udp), "port");
    program.jump(jump_always(), "other");
    program.label("port");
    program.emit(add_reg(r2, r8)); // r8 is at most 60: the verifier keeps r2 a packet pointer
    program.emit(mov_reg(r5, r2));
    program.emit(add_imm(r5, l3 + 4));
    program.jump(jump_reg(BPF_JGT, r5, r3), "other");
    program.emit(load(BPF_H, r1, r2, static_cast<std::int16_t>(l3 + 2)));
    program.emit(be16_to_host(r1));
    program.emit(add_reg(r9, r1));
    program.jump(jump_always(), "count");
    program.label("other");
    program.emit(mov_imm(r9, static_cast<std::int32_t>(BpfPortCounter::other)));

    program.label("count");
    program.emit(store(BPF_W, r10, slot_at, r9));
    program.load_map(r1, slots_fd);
    program.emit(mov_reg(r2, r10));
    program.emit(add_imm(r2, slot_at));
    program.emit(call(BPF_FUNC_map_lookup_elem));
    program.jump(jump_imm(BPF_JEQ, r0, 0), "out");
    program.emit(mov_imm(r1, 1));
    program.emit(atomic_add64(r0, offsetof(BpfPortCounter::Slot, packets), r1));
    program.emit(atomic_add64(r0, offsetof(BpfPortCounter::Slot, bytes), r7));

    program.label("out");
    program.emit(mov_imm(r0, pass));
    program.emit(exit_program());
    return program.finish();
}

} // namespace

std::size_t BpfPortCounter::slot(std::uint8_t protocol, std::uint16_t port) {
    if (protocol != tcp && protocol != udp) {
        throw std::invalid_argument("a port slot is TCP's or UDP's");
    }
    return (protocol == tcp ? 0 : ports) + port;
}

BpfPortCounter::BpfPortCounter(unsigned link_header) {
    MapSpec spec;
    spec.type = BPF_MAP_TYPE_ARRAY;
    spec.key_size = sizeof(std::uint32_t);
    spec.value_size = sizeof(Slot);
    spec.max_entries = slots;
    spec.name = "acctc_ports";
    slots_ = create_map(spec);
    program_ = load_sched_cls(port_program(slots_.get(), link_header), "acctc_ports");
}

void BpfPortCounter::attach(int ifindex, bool ingress) {
    link_ = attach_tcx(program_.get(), ifindex, ingress);
}

std::vector<BpfPortCounter::Slot> BpfPortCounter::read() const {
    const auto elements = read_map(slots_.get(), sizeof(std::uint32_t), sizeof(Slot));
    std::vector<Slot> out(slots);
    for (std::size_t i = 0; i < elements.count; ++i) {
        std::uint32_t index = 0;
        std::memcpy(&index, elements.keys.data() + i * sizeof index, sizeof index);
        if (index < slots) {
            std::memcpy(&out[index], elements.values.data() + i * sizeof(Slot), sizeof(Slot));
        }
    }
    return out;
}

} // namespace acctc::runtime
