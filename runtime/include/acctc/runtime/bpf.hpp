// The bpf(2) system call: maps, programs assembled by hand from `struct bpf_insn`, TCX links and
// batch reads, each object an owned file descriptor. Proven by the bench's per-host BPF
// experiment (docs/performance.md, "65,536 hosts in BPF"). No libbpf: nothing here is compiled
// for the BPF target, so the build and the package need nothing new.
#pragma once

#include "acctc/bpf_class_plan.hpp"
#include "acctc/unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <linux/bpf.h>
#include <map>
#include <string>
#include <vector>

namespace acctc::runtime::bpf {

struct MapSpec {
    bpf_map_type type = BPF_MAP_TYPE_HASH;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;
    std::uint32_t max_entries = 0;
    std::uint32_t flags = 0; // BPF_F_NO_PREALLOC, ...
    std::string name;        // at most 15 characters
};

UniqueFd create_map(const MapSpec& spec);
// The max_entries a map was created with (BPF_OBJ_GET_INFO_BY_FD).
std::uint32_t map_entries(int map_fd);

// The calling thread's network namespace, as a number no other namespace has had since boot
// (SO_NETNS_COOKIE, Linux 5.14).
std::uint64_t netns_cookie();

// Where acctc pins the BPF objects of the calling thread's network namespace:
// <root>/acctc/<netns cookie>, <root> /sys/fs/bpf (ACCTC_BPF_ROOT overrides it). Where no bpffs
// is mounted at <root>: with `create` an error (acctc mounts none), without an empty path.
std::filesystem::path namespace_dir(bool create);

// Pins another process may not see (`ip netns exec` hides /sys/fs/bpf) are recorded under
// /run/acctc, which it does see, in the file `record` of the namespace's directory: a reader
// without them fails (refuse_unseen_pins, naming `what` counts there) instead of reading less
// than what was counted (the period totals took that for a reset and booked it all again).
void record_pins(const std::string& record, const std::filesystem::path& dir);
void forget_pins(const std::string& record);
void refuse_unseen_pins(const std::string& record, const std::string& what);

// A BPF_PROG_TYPE_SCHED_CLS program (tc and TCX). Throws with the verifier's log on refusal.
UniqueFd load_sched_cls(const std::vector<bpf_insn>& program, const std::string& name);

// Attaches the program to the ingress (or egress) of the device with this index in the calling
// thread's network namespace, after the programs already there. The link, and with it the
// attachment, goes away when its descriptor is closed or the device or namespace goes.
UniqueFd attach_tcx(int program_fd, int ifindex, bool ingress = true);

// Replaces the program of a link in place (BPF_LINK_UPDATE): from one packet to the next the new
// program runs instead, nothing detached in between. How a reload swaps a counting program
// while keeping its maps.
void update_link(int link_fd, int program_fd);

// The program a link runs now, as a descriptor of its own (the link's info names its id).
UniqueFd link_program(int link_fd);

// The kernel's id of a map, program or link: two descriptors of one object give the same.
std::uint32_t object_id(int fd);

// A program that counts nothing and passes every packet on (TCX_NEXT), as if none were there.
UniqueFd pass_program(const std::string& name);

// Pins a map, program or link at a path of a mounted bpffs (BPF_OBJ_PIN), so that it outlives
// every descriptor of this process: a pinned link stays attached. pinned() opens it again
// (BPF_OBJ_GET); unpinning is unlinking the path.
void pin(int fd, const std::string& path);
UniqueFd pinned(const std::string& path);
// Pins at `path` in place of what is pinned there (staged beside it, then renamed over it): a
// reader opens the old object or the new one, never neither.
void pin_over(int fd, const std::filesystem::path& path);

// Every element of a map as key and value bytes, key_size and value_size apart (for per-CPU
// maps value_size is the per-CPU value times possible_cpus()). With `and_delete` the elements
// read are deleted in the same call (BPF_MAP_LOOKUP_AND_DELETE_BATCH: per hash bucket under its
// lock).
struct MapElements {
    std::vector<std::uint8_t> keys;
    std::vector<std::uint8_t> values;
    std::size_t count = 0;
};
MapElements read_map(int map_fd, std::uint32_t key_size, std::uint32_t value_size,
                     bool and_delete = false);
// Writes `count` elements (keys and values laid out as read_map returns them).
void update_map(int map_fd, const std::vector<std::uint8_t>& keys,
                const std::vector<std::uint8_t>& values, std::size_t count);
void update_element(int map_fd, const void* key, const void* value);

// Returns once every BPF program running now has finished (membarrier(MEMBARRIER_CMD_GLOBAL),
// one synchronize_rcu(): programs on the packet path run inside RCU read-side sections), so that
// none can still be using a map it looked up before. Throws where the kernel refuses (nohz_full).
void wait_for_running_programs();

// CPUs the kernel may ever bring up: the number of values of a per-CPU map element.
unsigned possible_cpus();

// A program under construction: instructions and jumps to named labels, resolved by finish().
class Assembler {
  public:
    void emit(const bpf_insn& insn) { insns_.push_back(insn); }
    // A conditional or unconditional jump whose offset is the label's place.
    void jump(const bpf_insn& insn, const std::string& label);
    void label(const std::string& name);
    // Loads the map's address (BPF_LD_IMM64 with BPF_PSEUDO_MAP_FD): two instructions.
    void load_map(std::uint8_t reg, int map_fd);
    // Loads a 64-bit constant (BPF_LD_IMM64): jumps compare with 32-bit immediates only.
    void load_imm64(std::uint8_t reg, std::uint64_t value);
    std::vector<bpf_insn> finish() const;

  private:
    std::vector<bpf_insn> insns_;
    std::map<std::string, std::size_t> labels_;
    std::vector<std::pair<std::size_t, std::string>> jumps_;
};

// Instructions, as the kernel's tools/include/linux/filter.h spells them (that header is not
// part of the UAPI). Registers: r0 return, r1-r5 arguments (clobbered by calls), r6-r9 kept,
// r10 the frame pointer.
constexpr bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
                        std::int32_t imm) {
    bpf_insn out{};
    out.code = code;
    out.dst_reg = dst & 0xf;
    out.src_reg = src & 0xf;
    out.off = off;
    out.imm = imm;
    return out;
}
constexpr bpf_insn mov_reg(std::uint8_t dst, std::uint8_t src) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn mov_imm(std::uint8_t dst, std::int32_t imm) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn add_imm(std::uint8_t dst, std::int32_t imm) {
    return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn add_reg(std::uint8_t dst, std::uint8_t src) {
    return insn(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0);
}
// dst op= imm, dst op= src (BPF_AND, BPF_LSH, BPF_RSH, BPF_MUL, ...), 64-bit.
constexpr bpf_insn alu_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
    return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn alu_reg(std::uint8_t op, std::uint8_t dst, std::uint8_t src) {
    return insn(BPF_ALU64 | op | BPF_X, dst, src, 0, 0);
}
// dst = *(size *)(src + off); size is BPF_B, BPF_H, BPF_W or BPF_DW.
constexpr bpf_insn load(std::uint8_t size, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return insn(BPF_LDX | BPF_MEM | size, dst, src, off, 0);
}
// *(size *)(dst + off) = src
constexpr bpf_insn store(std::uint8_t size, std::uint8_t dst, std::int16_t off, std::uint8_t src) {
    return insn(BPF_STX | BPF_MEM | size, dst, src, off, 0);
}
constexpr bpf_insn store_imm(std::uint8_t size, std::uint8_t dst, std::int16_t off,
                             std::int32_t imm) {
    return insn(BPF_ST | BPF_MEM | size, dst, 0, off, imm);
}
// lock *(u64 *)(dst + off) += src
constexpr bpf_insn atomic_add64(std::uint8_t dst, std::int16_t off, std::uint8_t src) {
    return insn(BPF_STX | BPF_ATOMIC | BPF_DW, dst, src, off, BPF_ADD);
}
// A 16-bit big-endian field, loaded as it lies in memory, to the host's order.
constexpr bpf_insn be16_to_host(std::uint8_t dst) {
    return insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, 16);
}
// The same for a field of 16, 32 or 64 bits.
constexpr bpf_insn be_to_host(std::uint8_t dst, std::int32_t bits) {
    return insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits);
}
constexpr bpf_insn jump_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
    return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn jump_reg(std::uint8_t op, std::uint8_t dst, std::uint8_t src) {
    return insn(BPF_JMP | op | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn jump_always() {
    return insn(BPF_JMP | BPF_JA, 0, 0, 0, 0);
}
constexpr bpf_insn call(bpf_func_id function) {
    return insn(BPF_JMP | BPF_CALL, 0, 0, 0, function);
}
constexpr bpf_insn exit_program() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// The frame of a program on a device, r6 being its skb: r2 = its data, r3 = its end, r4 its
// protocol, and a jump to "v4" or "v6" by that protocol; any other frame jumps to "out".
void emit_frame_dispatch(Assembler& program);

// IPv6's extension headers that nft's `meta l4proto` and `th` look past (ipv6_find_hdr()):
// hop-by-hop options, routing, fragment, authentication, destination options, at most
// max_extension_headers of them. With the IPv6 header at l3 of the frame r2 points at (r3 its
// end, checked), leaves r4 = the protocol after them and r5 = where its header starts (from r2),
// bounded for the verifier. A packet cut short jumps to "out"; one with more extension headers
// to `too_many`; with `later_fragment`, one whose fragment header says it is not the first
// fragment (it carries no transport header) jumps there. Labels are prefixed with `prefix`.
// Uses r4, r5, r8, r9.
constexpr int max_extension_headers = 4;
void emit_ipv6_extension_walk(Assembler& program, std::int16_t l3, const std::string& prefix,
                              const std::string& too_many, const std::string& later_fragment = "");

// The IP header of the family (at l3 of the frame r2 points at, r3 its end) is there, or the
// packet goes "out" uncounted (the stack drops it before nft's hooks); r7 = the packet's L3
// length, what nft's counter counts: IPv4's total length, IPv6's payload length and its own 40
// bytes. Uses r5, r7.
void emit_ip_header(Assembler& program, std::int16_t l3, bool ipv6);

// Where the family's header holds its source (or destination) address.
std::int16_t ip_address_at(bool ipv6, bool source);

// The address on the frame at `at` (4 bytes, IPv6 16, as the packet has them) cut to its first
// `prefix` bits, the bits past them zero, as nft's `& 255.255.255.0`. Uses r1.
void emit_address_cut(Assembler& program, std::int16_t at, unsigned prefix, bool ipv6);

// After emit_frame_dispatch, the slot of a packet whose IP header is at l3 (BpfPortSlots: TCP's
// and UDP's destination ports, then one for every other packet: other protocols, fragments past
// the first, which carry no ports, as nft's `th dport` finds none) in r9, and its L3 length (the
// header's own field, what nft's counter counts) in r7; then on at the label "slot". A packet
// too short for its IP header goes "out" (the stack drops it before nft's hooks).
void emit_port_slot(Assembler& program, std::int16_t l3);

// An array map created with BPF_F_MMAPABLE, mapped into this process: its elements read and
// written in place, as the programs see them (no system call per element).
class MappedArray {
  public:
    MappedArray() = default;
    MappedArray(int map_fd, std::size_t bytes); // bytes: value size (8-byte aligned) x entries
    MappedArray(MappedArray&& other) noexcept;
    MappedArray& operator=(MappedArray&& other) noexcept;
    MappedArray(const MappedArray&) = delete;
    MappedArray& operator=(const MappedArray&) = delete;
    ~MappedArray();
    std::uint8_t* data() const { return static_cast<std::uint8_t*>(data_); }
    std::size_t size() const { return bytes_; }

  private:
    void* data_ = nullptr;
    std::size_t bytes_ = 0;
};

// r0 = the address of the map's element whose 32-bit key is in register `key` (written on the
// frame at key_at); a jump to `missing` where there is none. Clobbers r1-r5.
void emit_element_lookup(Assembler& program, int map_fd, std::uint8_t key, std::int16_t key_at,
                         const std::string& missing);

// r0 = the address of element 0 of the array map (its key, 0, written on the frame at key_at);
// a jump to `missing` where there is none, which the verifier wants though an array's element
// is always there. Clobbers r1-r5.
void emit_first_element_lookup(Assembler& program, int map_fd, std::int16_t key_at,
                               const std::string& missing);

} // namespace acctc::runtime::bpf
