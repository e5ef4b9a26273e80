#include "acctc/runtime/bpf_port_counter.hpp"

#include "acctc/runtime/bpf.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <linux/if_ether.h>
#include <stdexcept>

namespace acctc::runtime {
namespace {

using namespace bpf;

constexpr std::uint8_t r0 = 0, r1 = 1, r6 = 6, r7 = 7, r9 = 9;
constexpr std::int32_t pass = -1; // TCX_NEXT: the packet goes on as if no program were there
constexpr std::int16_t slot_at = -4;

std::vector<bpf_insn> port_program(int slots_fd, unsigned link_header) {
    Assembler program;
    program.emit(mov_reg(r6, r1));
    emit_frame_dispatch(program);
    emit_port_slot(program, static_cast<std::int16_t>(link_header));

    program.label("slot");
    emit_element_lookup(program, slots_fd, r9, slot_at, "out");
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
    if (protocol != 6 && protocol != 17) {
        throw std::invalid_argument("a port slot is TCP's or UDP's");
    }
    return (protocol == 6 ? BpfPortSlots::tcp : BpfPortSlots::udp) + port;
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
