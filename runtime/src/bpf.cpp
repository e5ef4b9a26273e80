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
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

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

void emit_first_element_lookup(Assembler& program, int map_fd, std::int16_t key_at,
                               const std::string& missing) {
    program.emit(store_imm(BPF_W, 10, key_at, 0));
    program.load_map(1, map_fd);
    program.emit(mov_reg(2, 10));
    program.emit(add_imm(2, key_at));
    program.emit(call(BPF_FUNC_map_lookup_elem));
    program.jump(jump_imm(BPF_JEQ, 0, 0), missing);
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
