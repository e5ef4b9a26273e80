#include "bpf_stale_pins.hpp"

#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/errors.hpp"
#include "unique_fd.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace acctc::runtime {
namespace {

namespace fs = std::filesystem;

// A cookie's directory name: a 64-bit number in decimal.
bool all_digits(const std::string& text) {
    return !text.empty() && text.size() <= 19 &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A process's mount points of namespace files (`nsfs`), from its mountinfo: the fifth field
// is the mount point (spaces and the like octal-escaped), the fstype follows " - ".
std::vector<std::string> nsfs_mount_points(const fs::path& mountinfo) {
    std::vector<std::string> out;
    std::ifstream in(mountinfo);
    std::string line;
    while (std::getline(in, line)) {
        const std::size_t separator = line.find(" - ");
        if (separator == std::string::npos || line.compare(separator + 3, 5, "nsfs ") != 0) {
            continue;
        }
        std::istringstream fields(line.substr(0, separator));
        std::string field;
        for (int i = 0; i < 5 && fields >> field; ++i) {
        }
        std::string point;
        for (std::size_t i = 0; i < field.size(); ++i) {
            if (field[i] == '\\' && i + 3 < field.size()) {
                point += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                point += field[i];
            }
        }
        out.push_back(point);
    }
    return out;
}

// Every file that names a network namespace some process holds, one per namespace file
// (device and inode): its processes' and threads' namespaces, the namespace files they hold
// open, and those bind-mounted in their mount namespaces (read through /proc/PID/root).
std::vector<fs::path> namespace_handles() {
    std::map<std::pair<dev_t, ino_t>, fs::path> handles;
    const auto add = [&](const fs::path& path) {
        struct stat info {};
        if (::stat(path.c_str(), &info) == 0) {
            handles.try_emplace({info.st_dev, info.st_ino}, path);
        }
    };
    std::set<std::pair<dev_t, ino_t>> mount_namespaces;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/proc", error)) {
        const std::string pid = entry.path().filename().string();
        if (!all_digits(pid)) {
            continue;
        }
        const fs::path proc = entry.path();
        std::error_code ignored;
        for (const auto& task : fs::directory_iterator(proc / "task", ignored)) {
            add(task.path() / "ns/net");
        }
        for (const auto& fd : fs::directory_iterator(proc / "fd", ignored)) {
            const std::string target = fs::read_symlink(fd.path(), ignored).string();
            if (target.starts_with("net:[")) {
                add(fd.path());
            }
        }
        struct stat mount_ns {};
        if (::stat((proc / "ns/mnt").c_str(), &mount_ns) == 0 &&
            mount_namespaces.insert({mount_ns.st_dev, mount_ns.st_ino}).second) {
            for (const auto& point : nsfs_mount_points(proc / "mountinfo")) {
                add(proc / "root" / fs::path(point).relative_path());
            }
        }
    }
    if (error) {
        throw RuntimeError(ErrorKind::permission, "cannot list /proc: " + error.message());
    }
    std::vector<fs::path> out;
    for (auto& [key, path] : handles) {
        out.push_back(std::move(path));
    }
    return out;
}

// The namespace's cookie: entered by a thread of its own, which ends there.
std::optional<std::uint64_t> cookie_of(const fs::path& handle) {
    std::optional<std::uint64_t> out;
    std::exception_ptr failure;
    std::thread([&] {
        const UniqueFd fd(::open(handle.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid() || ::setns(fd.get(), CLONE_NEWNET) != 0) {
            return; // gone meanwhile, or not a network namespace (another nsfs mount)
        }
        try {
            out = bpf::netns_cookie();
        } catch (...) {
            failure = std::current_exception();
        }
    }).join();
    if (failure) {
        std::rethrow_exception(failure);
    }
    return out;
}

// Whether a link pinned under `dir` is still attached to a device: a namespace's devices go
// with it, and its TCX links then name none (ifindex 0 in their fdinfo).
bool has_attached_link(const fs::path& dir) {
    std::error_code error;
    for (const auto& entry : fs::recursive_directory_iterator(dir, error)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        UniqueFd object;
        try {
            object = bpf::pinned(entry.path());
        } catch (const RuntimeError&) {
            continue;
        }
        std::ifstream fdinfo("/proc/self/fdinfo/" + std::to_string(object.get()));
        std::string line;
        bool link = false;
        while (std::getline(fdinfo, line)) {
            link = link || line.starts_with("link_type:");
            if (link && line.starts_with("ifindex:") && std::stoul(line.substr(8)) != 0) {
                return true;
            }
        }
    }
    return false;
}

} // namespace

std::set<std::uint64_t> live_namespace_cookies() {
    std::set<std::uint64_t> out;
    for (const auto& handle : namespace_handles()) {
        if (const auto cookie = cookie_of(handle)) {
            out.insert(*cookie);
        }
    }
    return out;
}

std::vector<fs::path> remove_stale_pins() {
    std::vector<fs::path> removed;
    const fs::path own = bpf::namespace_dir(false);
    if (own.empty()) {
        return removed;
    }
    std::vector<fs::path> candidates;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(own.parent_path(), error)) {
        const fs::path& path = entry.path();
        if (entry.is_directory() && path != own && all_digits(path.filename().string()) &&
            !has_attached_link(path)) {
            candidates.push_back(path);
        }
    }
    if (candidates.empty()) {
        return removed;
    }
    std::set<std::uint64_t> live;
    try {
        live = live_namespace_cookies();
    } catch (const std::exception&) {
        return removed; // cannot tell which namespaces are alive: touch nothing
    }
    for (const auto& path : candidates) {
        if (live.count(std::stoull(path.filename().string())) == 0) {
            std::error_code ignored;
            fs::remove_all(path, ignored);
            removed.push_back(path);
        }
    }
    return removed;
}

} // namespace acctc::runtime
