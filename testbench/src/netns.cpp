#include "acctc/testbench/netns.hpp"

#include "acctc/testbench/cleanup.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace acctc::testbench {
namespace {

// As `ip netns add` does: /run/netns is a shared mount point, so namespace mounts propagate
// into mount namespaces created later (for example by `ip netns exec`).
void prepare_run_dir() {
    if (::mkdir(netns_run_dir.c_str(), 0755) != 0 && errno != EEXIST) {
        throw_errno("mkdir " + netns_run_dir.string());
    }
    bool made_mount_point = false;
    while (::mount("", netns_run_dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
        if (errno != EINVAL || made_mount_point) {
            throw_errno("mount --make-rshared " + netns_run_dir.string());
        }
        if (::mount(netns_run_dir.c_str(), netns_run_dir.c_str(), "none", MS_BIND | MS_REC,
                    nullptr) != 0) {
            throw_errno("mount --bind " + netns_run_dir.string());
        }
        made_mount_point = true;
    }
}

bool valid_netns_name(const std::string& name) {
    return !name.empty() && name.size() < 200 && name.find('/') == std::string::npos &&
           name != "." && name != "..";
}

template <class Number>
bool parse_number(std::string_view text, Number& out) {
    const auto* end = text.data() + text.size();
    auto [ptr, error] = std::from_chars(text.data(), end, out);
    return error == std::errc() && ptr == end && !text.empty();
}

// The nsfs inode a bind-mounted namespace file refers to, or 0 when nothing is mounted.
ino_t namespace_inode(const std::filesystem::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) || info.st_size != 0 ||
        info.st_nlink == 0) {
        return 0;
    }
    return info.st_ino;
}

// A dead run may have left processes inside (PR_SET_PDEATHSIG normally prevents that).
void kill_processes_in_namespace(const std::filesystem::path& path) {
    const ino_t inode = namespace_inode(path);
    if (inode == 0) {
        return;
    }
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
        int pid = 0;
        if (!parse_number(entry.path().filename().string(), pid) || pid == ::getpid()) {
            continue;
        }
        struct stat info {};
        if (::stat((entry.path() / "ns/net").c_str(), &info) == 0 && info.st_ino == inode) {
            ::kill(pid, SIGKILL);
        }
    }
}

} // namespace

unsigned long long process_start_ticks(int pid) {
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    const auto after_comm = text.rfind(')');
    if (after_comm == std::string::npos) {
        return 0;
    }
    // Field 22 (starttime); fields 1-2 end at the comm's closing parenthesis.
    std::istringstream fields(text.substr(after_comm + 1));
    std::string field;
    for (int index = 3; index <= 22 && fields >> field; ++index) {
        if (index == 22) {
            unsigned long long ticks = 0;
            return parse_number(field, ticks) ? ticks : 0;
        }
    }
    return 0;
}

RunPrefix RunPrefix::current() {
    RunPrefix prefix;
    prefix.pid = ::getpid();
    prefix.start_ticks = process_start_ticks(prefix.pid);
    return prefix;
}

std::string RunPrefix::text() const {
    return std::string(run_prefix_stem) + std::to_string(pid) + "-" + std::to_string(start_ticks) +
           "-";
}

bool RunPrefix::parse(std::string_view name, RunPrefix& out) {
    if (!name.starts_with(run_prefix_stem)) {
        return false;
    }
    name.remove_prefix(run_prefix_stem.size());
    const auto pid_end = name.find('-');
    if (pid_end == std::string_view::npos) {
        return false;
    }
    const auto start_end = name.find('-', pid_end + 1);
    if (start_end == std::string_view::npos) {
        return false;
    }
    return parse_number(name.substr(0, pid_end), out.pid) &&
           parse_number(name.substr(pid_end + 1, start_end - pid_end - 1), out.start_ticks);
}

bool RunPrefix::owner_alive() const {
    return pid > 0 && process_start_ticks(pid) == start_ticks;
}

NamedNetns NamedNetns::create(const std::string& name) {
    if (!valid_netns_name(name)) {
        throw std::invalid_argument("invalid namespace name '" + name + "'");
    }
    cleanup::install_signal_handlers();
    prepare_run_dir();
    const auto path = netns_run_dir / name;
    // Registered before the file exists, so an interrupt at any point below cleans up.
    cleanup::register_namespace_path(path.c_str());
    {
        UniqueFd placeholder(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
        if (!placeholder.valid()) {
            const int error = errno;
            cleanup::unregister_namespace_path(path.c_str());
            throw_errno("create " + path.string(), error);
        }
    }
    // unshare() in a throwaway thread: the namespace is new for that thread only, and the
    // bind mount keeps it alive after the thread ends. The caller never leaves its namespace.
    int error = 0;
    std::thread creator([&] {
        if (::unshare(CLONE_NEWNET) != 0 ||
            ::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
            error = errno;
        }
    });
    creator.join();
    UniqueFd handle;
    if (error == 0) {
        handle.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        error = handle.valid() ? 0 : errno;
    }
    if (error != 0) {
        remove_named_netns(name);
        throw_errno("create network namespace " + name, error);
    }
    return NamedNetns(name, std::move(handle));
}

NamedNetns::NamedNetns(std::string name, UniqueFd fd)
    : name_(std::move(name)), fd_(std::move(fd)) {}

NamedNetns::NamedNetns(NamedNetns&& other) noexcept
    : name_(std::move(other.name_)), fd_(std::move(other.fd_)) {
    other.name_.clear();
}

NamedNetns::~NamedNetns() {
    if (!name_.empty()) {
        fd_.reset();
        remove_named_netns(name_);
    }
}

void remove_named_netns(const std::string& name) {
    const auto path = netns_run_dir / name;
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
    cleanup::unregister_namespace_path(path.c_str());
}

std::vector<std::string> stale_namespaces() {
    std::vector<std::string> stale;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(netns_run_dir, error)) {
        const auto name = entry.path().filename().string();
        RunPrefix owner;
        if (RunPrefix::parse(name, owner) && !owner.owner_alive()) {
            stale.push_back(name);
        }
    }
    return stale;
}

std::vector<std::string> remove_stale_namespaces() {
    auto stale = stale_namespaces();
    for (const auto& name : stale) {
        kill_processes_in_namespace(netns_run_dir / name);
        remove_named_netns(name);
    }
    return stale;
}

ScopedNetns::ScopedNetns(int netns_fd)
    : original_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!original_.valid()) {
        throw_errno("open /proc/thread-self/ns/net");
    }
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
        throw_errno("setns");
    }
}

ScopedNetns::~ScopedNetns() {
    // Carrying on in the wrong namespace could configure the host: stop instead.
    if (::setns(original_.get(), CLONE_NEWNET) != 0) {
        std::abort();
    }
}

} // namespace acctc::testbench
