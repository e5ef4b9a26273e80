#include "acctc/runtime/bpf.hpp"

#include "acctc/runtime/errors.hpp"
#include "run_files.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <linux/if_ether.h>
#include <linux/magic.h>
#include <linux/membarrier.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <utility>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace acctc::runtime::bpf {
namespace {

// A refused bpf(2). Root with CAP_NET_ADMIN is not enough: loading needs CAP_BPF, and a seccomp
// filter may refuse the call itself (systemd's SystemCallFilter=~@privileged, which holds bpf,
// as in acctc's units): the generic hint, "needs CAP_NET_ADMIN", sent the reader astray.
[[noreturn]] void throw_bpf_error(const std::string& what, int error) {
    if (error == EPERM || error == EACCES) {
        throw RuntimeError(ErrorKind::permission,
                           what + ": " + std::strerror(error) +
                               " (BPF needs root with CAP_BPF and CAP_NET_ADMIN, and the bpf() "
                               "system call, which systemd's SystemCallFilter=~@privileged "
                               "refuses)");
    }
    throw_system_error(what, error);
}

// Newer than this system's UAPI headers (6.1): enum bpf_attach_type of Linux 6.6.
constexpr std::uint32_t attach_tcx_ingress = 46;
constexpr std::uint32_t attach_tcx_egress = 47;

long bpf_call(int command, bpf_attr& attr) {
    return ::syscall(__NR_bpf, command, &attr, sizeof attr);
}

std::uint64_t address(const void* pointer) {
    return reinterpret_cast<std::uintptr_t>(pointer);
}

void copy_name(char* to, std::size_t size, const std::string& name) {
    std::memcpy(to, name.data(), std::min(name.size(), size - 1));
}

} // namespace

std::uint64_t netns_cookie() {
    const UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    std::uint64_t cookie = 0;
    socklen_t size = sizeof cookie;
    if (!socket.valid() ||
        ::getsockopt(socket.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &size) != 0) {
        throw_system_error("network namespace cookie", errno);
    }
    return cookie;
}

std::filesystem::path namespace_dir(bool create) {
    const char* override_root = std::getenv("ACCTC_BPF_ROOT");
    const std::filesystem::path root =
        override_root != nullptr && *override_root != '\0' ? override_root : "/sys/fs/bpf";
    struct statfs info {};
    const bool mounted = ::statfs(root.c_str(), &info) == 0 &&
                         static_cast<unsigned long>(info.f_type) == BPF_FS_MAGIC;
    if (!mounted) {
        if (!create) {
            return {};
        }
        // Not mounted here: acctc mounts none itself. One mounted by a short-lived mount
        // namespace (`ip netns exec`) would vanish with it, and with it the pinned programs.
        throw RuntimeError(ErrorKind::unsupported,
                           "no bpffs is mounted at " + root.string() +
                               " (systemd mounts /sys/fs/bpf; `ip netns exec` hides it: use "
                               "--netns)");
    }
    if (!create) {
        try {
            return root / "acctc" / std::to_string(netns_cookie());
        } catch (const RuntimeError&) {
            return {}; // no SO_NETNS_COOKIE (Linux < 5.14): nothing can have been pinned
        }
    }
    return root / "acctc" / std::to_string(netns_cookie());
}

void record_pins(const std::string& record, const std::filesystem::path& dir) {
    write_run_file(run_directory(), record, dir.string() + "\n");
}

void forget_pins(const std::string& record) {
    remove_run_file(run_directory(), record);
}

void refuse_unseen_pins(const std::string& record, const std::string& what) {
    if (auto pinned = read_run_file(run_directory(), record, 4096)) {
        pinned->erase(pinned->find_last_not_of('\n') + 1);
        throw RuntimeError(ErrorKind::unsupported,
                           what + " BPF programs pinned under " + *pinned +
                               ", which this process does not see (`ip netns exec` hides "
                               "/sys/fs/bpf: use --netns)");
    }
}

void emit_frame_dispatch(Assembler& program) {
    program.emit(load(BPF_W, 2, 6, offsetof(__sk_buff, data)));
    program.emit(load(BPF_W, 3, 6, offsetof(__sk_buff, data_end)));
    program.emit(load(BPF_W, 4, 6, offsetof(__sk_buff, protocol)));
    program.jump(jump_imm(BPF_JEQ, 4, htons(ETH_P_IP)), "v4");
    program.jump(jump_imm(BPF_JEQ, 4, htons(ETH_P_IPV6)), "v6");
    program.jump(jump_always(), "out");
}

void emit_element_lookup(Assembler& program, int map_fd, std::uint8_t key, std::int16_t key_at,
                         const std::string& missing) {
    program.emit(store(BPF_W, 10, key_at, key));
    program.load_map(1, map_fd);
    program.emit(mov_reg(2, 10));
    program.emit(add_imm(2, key_at));
    program.emit(call(BPF_FUNC_map_lookup_elem));
    program.jump(jump_imm(BPF_JEQ, 0, 0), missing);
}

void emit_first_element_lookup(Assembler& program, int map_fd, std::int16_t key_at,
                               const std::string& missing) {
    program.emit(store_imm(BPF_W, 10, key_at, 0));
    program.load_map(1, map_fd);
    program.emit(mov_reg(2, 10));
    program.emit(add_imm(2, key_at));
    program.emit(call(BPF_FUNC_map_lookup_elem));
    program.jump(jump_imm(BPF_JEQ, 0, 0), missing);
}

void emit_ipv6_extension_walk(Assembler& program, std::int16_t l3, const std::string& prefix,
                              const std::string& too_many, const std::string& later_fragment) {
    constexpr std::uint8_t hop_by_hop = 0, routing = 43, fragment = 44, authentication = 51,
                           destination_options = 60;
    constexpr std::uint8_t r2 = 2, r3 = 3, r4 = 4, r5 = 5, r8 = 8, r9 = 9;
    program.emit(load(BPF_B, r4, r2, static_cast<std::int16_t>(l3 + 6))); // next header
    program.emit(mov_imm(r5, l3 + 40));                                   // where it starts
    for (int i = 0; i < max_extension_headers; ++i) {
        const std::string at = prefix + "_header_" + std::to_string(i);
        const std::string next = prefix + "_header_" + std::to_string(i + 1);
        program.jump(jump_imm(BPF_JEQ, r4, hop_by_hop), at + "_options");
        program.jump(jump_imm(BPF_JEQ, r4, routing), at + "_options");
        program.jump(jump_imm(BPF_JEQ, r4, destination_options), at + "_options");
        program.jump(jump_imm(BPF_JEQ, r4, fragment), at + "_fragment");
        program.jump(jump_imm(BPF_JEQ, r4, authentication), at + "_auth");
        program.jump(jump_always(), prefix + "_walked");
        // Its first `bytes` there, or the packet goes uncounted: r8 points at the header,
        // r4 = its next header, r9 = its length byte.
        const auto header = [&](const std::string& label, std::int32_t bytes) {
            program.label(label);
            program.emit(mov_reg(r8, r2));
            program.emit(add_reg(r8, r5));
            program.emit(mov_reg(r9, r8));
            program.emit(add_imm(r9, bytes));
            program.jump(jump_reg(BPF_JGT, r9, r3), "out");
            program.emit(load(BPF_B, r9, r8, 1));
            program.emit(load(BPF_B, r4, r8, 0));
        };
        header(at + "_options", 2); // (length + 1) * 8 bytes
        program.emit(add_imm(r9, 1));
        program.emit(alu_imm(BPF_LSH, r9, 3));
        program.emit(add_reg(r5, r9));
        program.jump(jump_always(), next);
        header(at + "_fragment", later_fragment.empty() ? 2 : 4); // 8 bytes
        if (!later_fragment.empty()) {
            // The offset, in the 13 high bits of bytes 2-3: not 0, no transport header here.
            program.emit(load(BPF_H, r9, r8, 2));
            program.emit(be16_to_host(r9));
            program.emit(alu_imm(BPF_AND, r9, 0xfff8));
            program.jump(jump_imm(BPF_JNE, r9, 0), later_fragment);
        }
        program.emit(add_imm(r5, 8));
        program.jump(jump_always(), next);
        header(at + "_auth", 2); // (length + 2) * 4 bytes
        program.emit(add_imm(r9, 2));
        program.emit(alu_imm(BPF_LSH, r9, 2));
        program.emit(add_reg(r5, r9));
        program.label(next);
    }
    program.jump(jump_always(), too_many);
    program.label(prefix + "_walked");
}

namespace {

// Each family's fixed header, where its length field is and what that leaves out, and where
// its addresses are.
struct IpHeaderFacts {
    std::int16_t bytes;
    std::int16_t length_at;
    std::int32_t length_leaves_out; // IPv6's payload length: its own 40-byte header
    std::int16_t source_at;
    std::int16_t destination_at;
};
constexpr IpHeaderFacts ipv4_header{20, 2, 0, 12, 16};
constexpr IpHeaderFacts ipv6_header{40, 4, 40, 8, 24};

const IpHeaderFacts& ip_header(bool ipv6) {
    return ipv6 ? ipv6_header : ipv4_header;
}

} // namespace

void emit_ip_header(Assembler& program, std::int16_t l3, bool ipv6) {
    constexpr std::uint8_t r2 = 2, r3 = 3, r5 = 5, r7 = 7;
    const IpHeaderFacts& header = ip_header(ipv6);
    program.emit(mov_reg(r5, r2));
    program.emit(add_imm(r5, l3 + header.bytes));
    program.jump(jump_reg(BPF_JGT, r5, r3), "out");
    program.emit(load(BPF_H, r7, r2, static_cast<std::int16_t>(l3 + header.length_at)));
    program.emit(be16_to_host(r7));
    if (header.length_leaves_out != 0) {
        program.emit(add_imm(r7, header.length_leaves_out));
    }
}

std::int16_t ip_address_at(bool ipv6, bool source) {
    const IpHeaderFacts& header = ip_header(ipv6);
    return source ? header.source_at : header.destination_at;
}

void emit_address_cut(Assembler& program, std::int16_t at, unsigned prefix, bool ipv6) {
    constexpr std::uint8_t r1 = 1, r10 = 10;
    const unsigned words = ipv6 ? 4 : 1;
    for (unsigned word = 0; word < words; ++word) {
        const auto word_at = static_cast<std::int16_t>(at + 4 * word);
        const unsigned first = 32 * word;
        if (prefix >= first + 32) {
            continue;
        }
        if (prefix <= first) {
            program.emit(store_imm(BPF_W, r10, word_at, 0));
            continue;
        }
        // The mask as the word lies in memory (network order), loaded and and-ed alike.
        const std::uint32_t mask = htonl(~std::uint32_t{0} << (32 - (prefix - first)));
        program.emit(load(BPF_W, r1, r10, word_at));
        program.emit(insn(BPF_ALU | BPF_AND | BPF_K, r1, 0, 0, static_cast<std::int32_t>(mask)));
        program.emit(store(BPF_W, r10, word_at, r1));
    }
}

void emit_port_slot(Assembler& program, std::int16_t l3) {
    constexpr std::uint8_t r1 = 1, r2 = 2, r3 = 3, r4 = 4, r5 = 5, r9 = 9;
    constexpr std::uint8_t tcp = 6, udp = 17;
    // Each family leaves r4 = the protocol and r5 = where its transport header starts (from r2).
    // IPv4: fragment offset at 6 (13 bits), protocol at 9, IHL in byte 0.
    program.label("v4");
    emit_ip_header(program, l3, false);
    program.emit(load(BPF_B, r4, r2, static_cast<std::int16_t>(l3 + 9)));
    program.emit(load(BPF_H, r5, r2, static_cast<std::int16_t>(l3 + 6)));
    program.emit(be16_to_host(r5));
    program.emit(alu_imm(BPF_AND, r5, 0x1fff));
    program.jump(jump_imm(BPF_JNE, r5, 0), "other");
    program.emit(load(BPF_B, r5, r2, l3));
    program.emit(alu_imm(BPF_AND, r5, 0x0f));
    program.emit(alu_imm(BPF_LSH, r5, 2));
    program.emit(add_imm(r5, l3));
    program.jump(jump_always(), "ports");

    // IPv6: the protocol after the extension headers, as nft finds it. More of them than the
    // walk takes: "other".
    program.label("v6");
    emit_ip_header(program, l3, true);
    emit_ipv6_extension_walk(program, l3, "v6", "other", "other");

    // The protocol's block plus the destination port (at 2 in both L4 headers).
    program.label("ports");
    program.emit(mov_imm(r9, static_cast<std::int32_t>(BpfPortSlots::tcp)));
    program.jump(jump_imm(BPF_JEQ, r4, tcp), "port");
    program.emit(mov_imm(r9, static_cast<std::int32_t>(BpfPortSlots::udp)));
    program.jump(jump_imm(BPF_JEQ, r4, udp), "port");
    program.jump(jump_always(), "other");
    program.label("port");
    program.emit(add_reg(r2, r5)); // r5 is bounded: the verifier keeps r2 a packet pointer
    program.emit(mov_reg(r5, r2));
    program.emit(add_imm(r5, 4));
    program.jump(jump_reg(BPF_JGT, r5, r3), "other");
    program.emit(load(BPF_H, r1, r2, 2));
    program.emit(be16_to_host(r1));
    program.emit(add_reg(r9, r1));
    program.jump(jump_always(), "slot");
    program.label("other");
    program.emit(mov_imm(r9, static_cast<std::int32_t>(BpfPortSlots::other)));
    program.jump(jump_always(), "slot");
}

MappedArray::MappedArray(int map_fd, std::size_t bytes) : bytes_(bytes) {
    data_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
    if (data_ == MAP_FAILED) {
        const int error = errno;
        data_ = nullptr;
        throw_bpf_error("mapping a bpf array", error);
    }
}

MappedArray::MappedArray(MappedArray&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

MappedArray& MappedArray::operator=(MappedArray&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) {
            ::munmap(data_, bytes_);
        }
        data_ = std::exchange(other.data_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
}

MappedArray::~MappedArray() {
    if (data_ != nullptr) {
        ::munmap(data_, bytes_);
    }
}

UniqueFd create_map(const MapSpec& spec) {
    bpf_attr attr{};
    attr.map_type = spec.type;
    attr.key_size = spec.key_size;
    attr.value_size = spec.value_size;
    attr.max_entries = spec.max_entries;
    attr.map_flags = spec.flags;
    copy_name(attr.map_name, sizeof attr.map_name, spec.name);
    const long fd = bpf_call(BPF_MAP_CREATE, attr);
    if (fd < 0) {
        const int error = errno;
        throw_bpf_error("bpf map " + spec.name, error);
    }
    return UniqueFd(static_cast<int>(fd));
}

namespace {

// The first `size` bytes of a map's, program's or link's info (BPF_OBJ_GET_INFO_BY_FD: the
// kernel fills in what fits).
void object_info(int fd, void* info, std::uint32_t size) {
    bpf_attr attr{};
    attr.info.bpf_fd = static_cast<std::uint32_t>(fd);
    attr.info.info_len = size;
    attr.info.info = address(info);
    if (bpf_call(BPF_OBJ_GET_INFO_BY_FD, attr) < 0) {
        const int error = errno;
        throw_bpf_error("read a bpf object's info", error);
    }
}

} // namespace

std::uint32_t map_entries(int map_fd) {
    bpf_map_info info{};
    object_info(map_fd, &info, sizeof info);
    return info.max_entries;
}

UniqueFd load_sched_cls(const std::vector<bpf_insn>& program, const std::string& name) {
    static const char license[] = "Dual MIT/GPL";
    const auto load = [&](char* log, std::uint32_t log_size) {
        bpf_attr attr{};
        attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
        attr.insn_cnt = static_cast<std::uint32_t>(program.size());
        attr.insns = address(program.data());
        attr.license = address(license);
        attr.log_level = log != nullptr ? 1 : 0;
        attr.log_buf = address(log);
        attr.log_size = log_size;
        copy_name(attr.prog_name, sizeof attr.prog_name, name);
        return bpf_call(BPF_PROG_LOAD, attr);
    };
    long fd = load(nullptr, 0);
    if (fd >= 0) {
        return UniqueFd(static_cast<int>(fd));
    }
    const int error = errno;
    // Again with the verifier's log, for the message.
    std::vector<char> log(1 << 20);
    fd = load(log.data(), static_cast<std::uint32_t>(log.size()));
    if (fd >= 0) {
        return UniqueFd(static_cast<int>(fd));
    }
    log.back() = '\0';
    throw_bpf_error("bpf program " + name + " refused; the verifier's log:\n" + log.data(), error);
}

UniqueFd attach_tcx(int program_fd, int ifindex, bool ingress) {
    bpf_attr attr{};
    attr.link_create.prog_fd = static_cast<std::uint32_t>(program_fd);
    attr.link_create.target_ifindex = static_cast<std::uint32_t>(ifindex);
    attr.link_create.attach_type = ingress ? attach_tcx_ingress : attach_tcx_egress;
    const long fd = bpf_call(BPF_LINK_CREATE, attr);
    if (fd < 0) {
        const int error = errno;
        throw_bpf_error("attach bpf program to tcx " + std::string(ingress ? "ingress" : "egress") +
                            " of ifindex " + std::to_string(ifindex),
                        error);
    }
    return UniqueFd(static_cast<int>(fd));
}

void update_link(int link_fd, int program_fd) {
    bpf_attr attr{};
    attr.link_update.link_fd = static_cast<std::uint32_t>(link_fd);
    attr.link_update.new_prog_fd = static_cast<std::uint32_t>(program_fd);
    if (bpf_call(BPF_LINK_UPDATE, attr) < 0) {
        const int error = errno;
        throw_bpf_error("replace the program of a bpf link", error);
    }
}

UniqueFd link_program(int link_fd) {
    bpf_link_info info{};
    object_info(link_fd, &info, sizeof info);
    bpf_attr by_id{};
    by_id.prog_id = info.prog_id;
    const long fd = bpf_call(BPF_PROG_GET_FD_BY_ID, by_id);
    if (fd < 0) {
        const int error = errno;
        throw_bpf_error("open the program of a bpf link", error);
    }
    return UniqueFd(static_cast<int>(fd));
}

std::uint32_t object_id(int fd) {
    // The info of a map, a program and a link all begin with the type and the id.
    struct {
        std::uint32_t type;
        std::uint32_t id;
    } info{};
    object_info(fd, &info, sizeof info);
    return info.id;
}

UniqueFd pass_program(const std::string& name) {
    Assembler pass;
    pass.emit(mov_imm(0, -1)); // TCX_NEXT
    pass.emit(exit_program());
    return load_sched_cls(pass.finish(), name);
}

void pin(int fd, const std::string& path) {
    bpf_attr attr{};
    attr.pathname = address(path.c_str());
    attr.bpf_fd = static_cast<std::uint32_t>(fd);
    if (bpf_call(BPF_OBJ_PIN, attr) < 0) {
        const int error = errno;
        throw_bpf_error("pin bpf object at " + path, error);
    }
}

UniqueFd pinned(const std::string& path) {
    bpf_attr attr{};
    attr.pathname = address(path.c_str());
    const long fd = bpf_call(BPF_OBJ_GET, attr);
    if (fd < 0) {
        const int error = errno;
        throw_bpf_error("open pinned bpf object " + path, error);
    }
    return UniqueFd(static_cast<int>(fd));
}

void pin_over(int fd, const std::filesystem::path& path) {
    std::filesystem::path staged = path;
    staged += "+new";
    std::error_code ignored;
    std::filesystem::remove(staged, ignored);
    pin(fd, staged);
    std::filesystem::rename(staged, path);
}

MapElements read_map(int map_fd, std::uint32_t key_size, std::uint32_t value_size,
                     bool and_delete) {
    // Elements per call: a hash map's batch stops at a bucket boundary, and refuses (ENOSPC)
    // only a bucket larger than this.
    constexpr std::size_t chunk = 8192;
    MapElements out;
    // The batch position is opaque (a bucket index for hash maps); a key's size is enough.
    std::array<std::uint8_t, 64> in_batch{};
    std::array<std::uint8_t, 64> out_batch{};
    bool first = true;
    for (;;) {
        out.keys.resize((out.count + chunk) * key_size);
        out.values.resize((out.count + chunk) * value_size);
        bpf_attr attr{};
        attr.batch.in_batch = first ? 0 : address(in_batch.data());
        attr.batch.out_batch = address(out_batch.data());
        attr.batch.keys = address(out.keys.data() + out.count * key_size);
        attr.batch.values = address(out.values.data() + out.count * value_size);
        attr.batch.count = chunk;
        attr.batch.map_fd = static_cast<std::uint32_t>(map_fd);
        const long result =
            bpf_call(and_delete ? BPF_MAP_LOOKUP_AND_DELETE_BATCH : BPF_MAP_LOOKUP_BATCH, attr);
        const int error = errno;
        if (result < 0 && error != ENOENT) {
            throw_bpf_error("read bpf map", error);
        }
        out.count += attr.batch.count;
        if (result < 0) { // ENOENT: the last elements were in this batch
            break;
        }
        in_batch = out_batch;
        first = false;
    }
    out.keys.resize(out.count * key_size);
    out.values.resize(out.count * value_size);
    return out;
}

void update_map(int map_fd, const std::vector<std::uint8_t>& keys,
                const std::vector<std::uint8_t>& values, std::size_t count) {
    bpf_attr attr{};
    attr.batch.keys = address(keys.data());
    attr.batch.values = address(values.data());
    attr.batch.count = static_cast<std::uint32_t>(count);
    attr.batch.map_fd = static_cast<std::uint32_t>(map_fd);
    if (bpf_call(BPF_MAP_UPDATE_BATCH, attr) < 0) {
        const int error = errno;
        throw_bpf_error("fill bpf map", error);
    }
}

void update_element(int map_fd, const void* key, const void* value) {
    bpf_attr attr{};
    attr.map_fd = static_cast<std::uint32_t>(map_fd);
    attr.key = address(key);
    attr.value = address(value);
    attr.flags = BPF_ANY;
    if (bpf_call(BPF_MAP_UPDATE_ELEM, attr) < 0) {
        const int error = errno;
        throw_bpf_error("update bpf map element", error);
    }
}

void wait_for_running_programs() {
    if (::syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
        const int error = errno;
        throw_system_error("membarrier", error);
    }
}

unsigned possible_cpus() {
    // "0-1" or "0,2-5": the highest CPU number plus one.
    std::ifstream file("/sys/devices/system/cpu/possible");
    std::string text;
    std::getline(file, text);
    const auto last = text.find_last_of(",-");
    const std::string highest = last == std::string::npos ? text : text.substr(last + 1);
    if (highest.empty()) {
        throw std::runtime_error("cannot read /sys/devices/system/cpu/possible");
    }
    return static_cast<unsigned>(std::stoul(highest)) + 1;
}

void Assembler::jump(const bpf_insn& insn, const std::string& label) {
    jumps_.emplace_back(insns_.size(), label);
    insns_.push_back(insn);
}

void Assembler::label(const std::string& name) {
    if (!labels_.emplace(name, insns_.size()).second) {
        throw std::logic_error("bpf assembler: label " + name + " twice");
    }
}

void Assembler::load_map(std::uint8_t reg, int map_fd) {
    insns_.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, reg, BPF_PSEUDO_MAP_FD, 0, map_fd));
    insns_.push_back(insn(0, 0, 0, 0, 0));
}

void Assembler::load_imm64(std::uint8_t reg, std::uint64_t value) {
    insns_.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, reg, 0, 0,
                          static_cast<std::int32_t>(static_cast<std::uint32_t>(value))));
    insns_.push_back(insn(0, 0, 0, 0, static_cast<std::int32_t>(value >> 32)));
}

std::vector<bpf_insn> Assembler::finish() const {
    std::vector<bpf_insn> out = insns_;
    for (const auto& [at, label] : jumps_) {
        const auto target = labels_.find(label);
        if (target == labels_.end()) {
            throw std::logic_error("bpf assembler: no label " + label);
        }
        out[at].off = static_cast<std::int16_t>(static_cast<long>(target->second) -
                                                static_cast<long>(at) - 1);
    }
    return out;
}

} // namespace acctc::runtime::bpf
