#include "acctc/testbench/cgroups.hpp"

#include "acctc/testbench/unique_fd.hpp"

#include <cerrno>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acctc::testbench {
namespace {

// Removes a run directory: its groups first (empty once their processes are reaped).
bool remove_run_directory(const std::filesystem::path& directory) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        if (entry.is_directory()) {
            ::rmdir(entry.path().c_str());
        }
    }
    return ::rmdir(directory.c_str()) == 0;
}

} // namespace

std::filesystem::path cgroup2_root() {
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        const auto separator = line.find(" - ");
        if (separator == std::string::npos || line.compare(separator + 3, 8, "cgroup2 ") != 0) {
            continue;
        }
        std::istringstream fields(line.substr(0, separator));
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        if (root == "/") {
            return mount_point;
        }
    }
    throw std::runtime_error("cgroup2 is not mounted: `owner cgroup` scenarios need it");
}

RunCgroups::RunCgroups(const std::set<std::string>& names, const RunPrefix& prefix)
    : root_(cgroup2_root()), relative_(prefix.text() + "cgroup"), names_(names) {
    remove_stale_cgroups();
    const auto base = root_ / relative_;
    if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
        throw_errno("mkdir " + base.string());
    }
    for (const auto& name : names_) {
        const auto group = base / name;
        if (::mkdir(group.c_str(), 0755) != 0 && errno != EEXIST) {
            const int saved = errno;
            remove_run_directory(base);
            errno = saved;
            throw_errno("mkdir " + group.string());
        }
    }
}

RunCgroups::~RunCgroups() {
    remove_run_directory(root_ / relative_);
}

std::string RunCgroups::path_of(const std::string& name) const {
    return (root_ / relative_ / name).string();
}

std::vector<std::string> remove_stale_cgroups() {
    std::vector<std::string> removed;
    std::error_code error;
    const auto root = cgroup2_root();
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
        const auto name = entry.path().filename().string();
        RunPrefix owner;
        if (entry.is_directory() && RunPrefix::parse(name, owner) && !owner.owner_alive() &&
            remove_run_directory(entry.path())) {
            removed.push_back(name);
        }
    }
    return removed;
}

void mount_cgroup2_privately() {
    if (::unshare(CLONE_NEWNS) != 0) {
        throw_errno("unshare mount namespace");
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        throw_errno("make mounts private");
    }
    if (::mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, nullptr) != 0) {
        throw_errno("mount cgroup2 on /sys/fs/cgroup");
    }
}

} // namespace acctc::testbench
