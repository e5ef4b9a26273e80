#include "bpf_wire_program.hpp"

#include "acctc/runtime/bpf.hpp"

#include <arpa/inet.h>
#include <cstddef>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>

namespace acctc::runtime {
namespace {

using namespace bpf;

constexpr std::uint8_t r0 = 0, r1 = 1, r2 = 2, r3 = 3, r4 = 4, r5 = 5, r6 = 6, r7 = 7, r8 = 8,
                       r9 = 9, r10 = 10;
constexpr std::int32_t pass = -1; // TCX_NEXT

// The frame: the IP header as read (40 bytes), the transport header's first 14, the routing
// lookup's parameters, then one 8-byte slot per value the rules read.
constexpr std::int16_t ip_at = -64, l4_at = -88, fib_at = -152, family_at = -160, proto_at = -168,
                       sport_at = -176, dport_at = -184, bytes_at = -192, scope_at = -200,
                       base_at = -208, key_at = -216;

// What the scope slot holds.
constexpr std::int32_t scope_local = 1, scope_forwarded = 2;

// bpf_fib_lookup()'s answers (enum in linux/bpf.h): delivered here, or forwarded.
constexpr std::int32_t fib_success = 0, fib_not_forwarded = 4, fib_forwarding_disabled = 5,
                       fib_unsupported_lwt = 6, fib_no_neighbour = 7, fib_frag_needed = 8;

std::int16_t at(std::int16_t base, std::size_t offset) {
    return static_cast<std::int16_t>(base + static_cast<std::int16_t>(offset));
}

// Copies `length` bytes from the network header + (r8 when `from_r8`, else 0) to the frame at
// `to`, or goes "out" when the packet is shorter.
void load_relative(Assembler& p, bool from_r8, std::int16_t to, std::int32_t length) {
    p.emit(mov_reg(r1, r6));
    p.emit(from_r8 ? mov_reg(r2, r8) : mov_imm(r2, 0));
    p.emit(mov_reg(r3, r10));
    p.emit(add_imm(r3, to));
    p.emit(mov_imm(r4, length));
    p.emit(mov_imm(r5, BPF_HDR_START_NET));
    p.emit(call(BPF_FUNC_skb_load_bytes_relative));
    p.jump(jump_imm(BPF_JNE, r0, 0), "out");
}

// The headers: family, protocol, ports, and the bytes the missing packets' headers make.
void emit_headers(Assembler& p) {
    p.emit(load(BPF_W, r9, r6, offsetof(__sk_buff, protocol)));
    p.jump(jump_imm(BPF_JEQ, r9, htons(ETH_P_IP)), "v4");
    p.jump(jump_imm(BPF_JEQ, r9, htons(ETH_P_IPV6)), "v6");
    p.jump(jump_always(), "out");

    p.label("v4"); // header length from IHL, protocol at 9
    load_relative(p, false, ip_at, 20);
    p.emit(load(BPF_B, r8, r10, ip_at));
    p.emit(alu_imm(BPF_AND, r8, 0x0f));
    p.emit(alu_imm(BPF_LSH, r8, 2));
    p.emit(load(BPF_B, r9, r10, at(ip_at, 9)));
    p.emit(store_imm(BPF_DW, r10, family_at, 4));
    p.jump(jump_always(), "l4");

    p.label("v6"); // 40 bytes, next header at 6
    load_relative(p, false, ip_at, 40);
    p.emit(mov_imm(r8, 40));
    p.emit(load(BPF_B, r9, r10, at(ip_at, 6)));
    p.emit(store_imm(BPF_DW, r10, family_at, 6));

    // Only TCP and UDP (and UDP-Lite) headers are known in length; another merged transport
    // (SCTP, an IPv6 extension header first) stays uncorrected.
    p.label("l4");
    p.emit(store(BPF_DW, r10, proto_at, r9));
    p.jump(jump_imm(BPF_JEQ, r9, IPPROTO_TCP), "tcp");
    p.jump(jump_imm(BPF_JEQ, r9, IPPROTO_UDP), "udp");
    p.jump(jump_imm(BPF_JEQ, r9, IPPROTO_UDPLITE), "udp");
    p.jump(jump_always(), "out");

    p.label("tcp"); // data offset: the high nibble of byte 12, in 32-bit words
    load_relative(p, true, l4_at, 14);
    p.emit(load(BPF_B, r9, r10, at(l4_at, 12)));
    p.emit(alu_imm(BPF_RSH, r9, 4));
    p.emit(alu_imm(BPF_LSH, r9, 2));
    p.emit(add_reg(r8, r9));
    p.jump(jump_always(), "ports");

    p.label("udp");
    load_relative(p, true, l4_at, 8);
    p.emit(add_imm(r8, 8));

    p.label("ports");
    for (const auto& [offset, slot] : {std::pair{0, sport_at}, std::pair{2, dport_at}}) {
        p.emit(load(BPF_H, r9, r10, at(l4_at, static_cast<std::size_t>(offset))));
        p.emit(be16_to_host(r9));
        p.emit(store(BPF_DW, r10, slot, r9));
    }
    p.emit(alu_reg(BPF_MUL, r8, r7));
    p.emit(store(BPF_DW, r10, bytes_at, r8));
}

// The slots of the current generation start at base_at.
void emit_generation(Assembler& p, const WireProgramMaps& maps) {
    emit_first_element_lookup(p, maps.generation, key_at, "out");
    p.emit(load(BPF_W, r9, r0, 0));
    p.emit(alu_imm(BPF_AND, r9, 1));
    p.emit(alu_imm(BPF_MUL, r9, static_cast<std::int32_t>(maps.slots)));
    p.emit(store(BPF_DW, r10, base_at, r9));
}

// Ingress: delivered here or forwarded, as the routing table says (the hook after it is input
// or forward). Egress: this host's packets carry their socket, forwarded ones none.
void emit_scope(Assembler& p, bool ingress) {
    if (!ingress) {
        p.emit(store_imm(BPF_DW, r10, scope_at, scope_forwarded));
        p.emit(load(BPF_DW, r1, r6, offsetof(__sk_buff, sk)));
        p.jump(jump_imm(BPF_JEQ, r1, 0), "scoped");
        p.emit(store_imm(BPF_DW, r10, scope_at, scope_local));
        p.label("scoped");
        return;
    }
    p.emit(load(BPF_DW, r9, r10, proto_at));
    p.emit(store(BPF_B, r10, at(fib_at, offsetof(bpf_fib_lookup, l4_protocol)), r9));
    p.emit(load(BPF_W, r9, r6, offsetof(__sk_buff, ifindex)));
    p.emit(store(BPF_W, r10, at(fib_at, offsetof(bpf_fib_lookup, ifindex)), r9));
    const auto src = offsetof(bpf_fib_lookup, ipv4_src);
    const auto dst = offsetof(bpf_fib_lookup, ipv4_dst);
    p.emit(load(BPF_DW, r9, r10, family_at));
    p.jump(jump_imm(BPF_JEQ, r9, 6), "fib6");
    p.emit(store_imm(BPF_B, r10, fib_at, AF_INET));
    p.emit(load(BPF_W, r9, r10, at(ip_at, 12)));
    p.emit(store(BPF_W, r10, at(fib_at, src), r9));
    p.emit(load(BPF_W, r9, r10, at(ip_at, 16)));
    p.emit(store(BPF_W, r10, at(fib_at, dst), r9));
    p.jump(jump_always(), "fib");
    p.label("fib6");
    p.emit(store_imm(BPF_B, r10, fib_at, AF_INET6));
    for (std::size_t half = 0; half < 16; half += 8) {
        p.emit(load(BPF_DW, r9, r10, at(ip_at, 8 + half)));
        p.emit(store(BPF_DW, r10, at(fib_at, src + half), r9));
        p.emit(load(BPF_DW, r9, r10, at(ip_at, 24 + half)));
        p.emit(store(BPF_DW, r10, at(fib_at, dst + half), r9));
    }
    p.label("fib");
    p.emit(mov_reg(r1, r6));
    p.emit(mov_reg(r2, r10));
    p.emit(add_imm(r2, fib_at));
    p.emit(mov_imm(r3, sizeof(bpf_fib_lookup)));
    p.emit(mov_imm(r4, 0));
    p.emit(call(BPF_FUNC_fib_lookup));
    for (const std::int32_t local : {fib_not_forwarded, fib_forwarding_disabled}) {
        p.jump(jump_imm(BPF_JEQ, r0, local), "fib_local");
    }
    for (const std::int32_t forwarded :
         {fib_success, fib_unsupported_lwt, fib_no_neighbour, fib_frag_needed}) {
        p.jump(jump_imm(BPF_JEQ, r0, forwarded), "fib_forwarded");
    }
    p.jump(jump_always(), "scoped"); // dropped by the routing table: neither hook sees it
    p.label("fib_local");
    p.emit(store_imm(BPF_DW, r10, scope_at, scope_local));
    p.jump(jump_always(), "scoped");
    p.label("fib_forwarded");
    p.emit(store_imm(BPF_DW, r10, scope_at, scope_forwarded));
    p.label("scoped");
}

bool wide(WireField field) {
    return field == WireField::saddr6 || field == WireField::daddr6;
}

// The family a field needs (0: any).
std::int32_t family_of(WireField field) {
    switch (field) {
    case WireField::saddr4:
    case WireField::daddr4:
        return 4;
    case WireField::saddr6:
    case WireField::daddr6:
        return 6;
    default:
        return 0;
    }
}

// The field's value in r1 (and its low 64 bits in r2 for IPv6 addresses), in host order.
void emit_value(Assembler& p, WireField field) {
    const auto address = [&](std::size_t offset, int bits) {
        p.emit(load(bits == 32 ? BPF_W : BPF_DW, r1, r10, at(ip_at, offset)));
        p.emit(be_to_host(r1, bits));
        if (bits == 64) {
            p.emit(load(BPF_DW, r2, r10, at(ip_at, offset + 8)));
            p.emit(be_to_host(r2, 64));
        }
    };
    switch (field) {
    case WireField::family:
        p.emit(load(BPF_DW, r1, r10, family_at));
        return;
    case WireField::l4proto:
        p.emit(load(BPF_DW, r1, r10, proto_at));
        return;
    case WireField::sport:
        p.emit(load(BPF_DW, r1, r10, sport_at));
        return;
    case WireField::dport:
        p.emit(load(BPF_DW, r1, r10, dport_at));
        return;
    case WireField::saddr4:
        return address(12, 32);
    case WireField::daddr4:
        return address(16, 32);
    case WireField::saddr6:
        return address(8, 64);
    case WireField::daddr6:
        return address(24, 64);
    }
}

// Jumps to `matched` when the value is in the range, falls through otherwise.
void emit_range(Assembler& p, const BpfRange& range, bool is_wide, const std::string& matched,
                const std::string& skip) {
    if (!is_wide) {
        p.load_imm64(r3, range.lo_low);
        p.jump(jump_reg(BPF_JLT, r1, r3), skip);
        p.load_imm64(r3, range.hi_low);
        p.jump(jump_reg(BPF_JLE, r1, r3), matched);
        p.label(skip);
        return;
    }
    const std::string at_least = skip + "_ge";
    p.load_imm64(r3, range.lo_high); // (r1, r2) >= lo
    p.jump(jump_reg(BPF_JGT, r1, r3), at_least);
    p.jump(jump_reg(BPF_JLT, r1, r3), skip);
    p.load_imm64(r3, range.lo_low);
    p.jump(jump_reg(BPF_JLT, r2, r3), skip);
    p.label(at_least);
    p.load_imm64(r3, range.hi_high); // (r1, r2) <= hi
    p.jump(jump_reg(BPF_JLT, r1, r3), matched);
    p.jump(jump_reg(BPF_JGT, r1, r3), skip);
    p.load_imm64(r3, range.hi_low);
    p.jump(jump_reg(BPF_JLE, r2, r3), matched);
    p.label(skip);
}

// map[key] += (gso_segs - 1, headers), the key in r1; on to `next` when it is not there.
void emit_add(Assembler& p, int map, const std::string& next) {
    p.emit(store(BPF_W, r10, key_at, r1));
    p.load_map(r1, map);
    p.emit(mov_reg(r2, r10));
    p.emit(add_imm(r2, key_at));
    p.emit(call(BPF_FUNC_map_lookup_elem));
    p.jump(jump_imm(BPF_JEQ, r0, 0), next);
    p.emit(load(BPF_DW, r1, r0, offsetof(WireCounts, packets)));
    p.emit(add_reg(r1, r7));
    p.emit(store(BPF_DW, r0, offsetof(WireCounts, packets), r1));
    p.emit(load(BPF_DW, r1, r0, offsetof(WireCounts, bytes)));
    p.emit(load(BPF_DW, r2, r10, bytes_at));
    p.emit(add_reg(r1, r2));
    p.emit(store(BPF_DW, r0, offsetof(WireCounts, bytes), r1));
}

void emit_rule(Assembler& p, const WireRule& rule, const WireSlots& slots,
               const WireProgramMaps& maps, const std::map<std::string, int>& ifindex,
               const std::string& name) {
    const std::string next = name + "_next";
    if (rule.scope != WireScope::any) {
        p.emit(load(BPF_DW, r9, r10, scope_at));
        p.jump(
            jump_imm(BPF_JNE, r9, rule.scope == WireScope::local ? scope_local : scope_forwarded),
            next);
    }
    if (!rule.not_arrived_via.empty()) { // the device a forwarded packet arrived through
        p.emit(load(BPF_W, r9, r6, offsetof(__sk_buff, ingress_ifindex)));
        for (const auto& device : rule.not_arrived_via) {
            if (const auto it = ifindex.find(device); it != ifindex.end()) {
                p.jump(jump_imm(BPF_JEQ, r9, it->second), next);
            }
        }
    }
    for (std::size_t k = 0; k < rule.conditions.size(); ++k) {
        const WireCondition& c = rule.conditions[k];
        const std::string cname = name + "_c" + std::to_string(k);
        if (const std::int32_t family = family_of(c.field); family != 0) {
            p.emit(load(BPF_DW, r9, r10, family_at));
            p.jump(jump_imm(BPF_JNE, r9, family), next); // as nft's implied family
        }
        emit_value(p, c.field);
        for (std::size_t j = 0; j < c.ranges.size(); ++j) {
            emit_range(p, c.ranges[j], wide(c.field), cname + "_in",
                       cname + "_r" + std::to_string(j));
        }
        p.jump(jump_always(), c.negate ? cname + "_ok" : next);
        p.label(cname + "_in");
        if (c.negate) {
            p.jump(jump_always(), next);
        }
        p.label(cname + "_ok");
    }
    // counts[base + slot], then each quota's slot (counted whatever the generation).
    p.emit(load(BPF_DW, r1, r10, base_at));
    p.emit(add_imm(r1, static_cast<std::int32_t>(slots.counter)));
    emit_add(p, maps.counts, next);
    for (const std::uint32_t quota : slots.quotas) {
        p.emit(mov_imm(r1, static_cast<std::int32_t>(quota)));
        emit_add(p, maps.quota_counts, next);
    }
    p.label(next);
}

} // namespace

std::vector<bpf_insn> wire_program(const WireHook& hook, const std::vector<WireSlots>& slots,
                                   const WireProgramMaps& maps,
                                   const std::map<std::string, int>& ifindex) {
    Assembler p;
    p.emit(mov_reg(r6, r1));
    // The fast path: a packet the hook saw as the wire carries it.
    p.emit(load(BPF_W, r7, r6, offsetof(__sk_buff, gso_segs)));
    p.jump(jump_imm(BPF_JLE, r7, 1), "out");
    p.emit(add_imm(r7, -1)); // the packets the hook did not see
    for (std::int16_t slot = key_at; slot < 0; slot = static_cast<std::int16_t>(slot + 8)) {
        p.emit(store_imm(BPF_DW, r10, slot, 0));
    }
    emit_headers(p);
    emit_generation(p, maps);
    bool scoped = false;
    for (const auto& rule : hook.rules) {
        scoped = scoped || rule.scope != WireScope::any;
    }
    if (scoped) {
        emit_scope(p, hook.ingress);
    }
    for (std::size_t i = 0; i < hook.rules.size(); ++i) {
        emit_rule(p, hook.rules[i], slots.at(hook.rules[i].counter), maps, ifindex,
                  "rule" + std::to_string(i));
    }
    p.label("out");
    p.emit(mov_imm(r0, pass));
    p.emit(exit_program());
    return p.finish();
}

} // namespace acctc::runtime
