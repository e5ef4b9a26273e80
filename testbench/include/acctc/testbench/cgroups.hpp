// cgroup v2 groups for `owner cgroup` scenarios: one directory per run under the cgroup2 root,
// <root>/acctc-tb-<pid>-<start>-cgroup/NAME, removed with the object; leftovers of dead runs
// are removed when the next one starts. Peers join them through Identity::cgroup.
//
// nft resolves a `socket cgroupv2` path under /sys/fs/cgroup. On a hybrid host (cgroup v1
// controllers there, cgroup2 at /sys/fs/cgroup/unified) that is not the cgroup2 root, so the
// bench loads such rulesets in a child with a private mount namespace in which cgroup2 is
// mounted on /sys/fs/cgroup (docs/testbench.md).
#pragma once

#include "acctc/testbench/netns.hpp"

#include <filesystem>
#include <set>
#include <string>

namespace acctc::testbench {

// Where cgroup2 is mounted (from /proc/self/mountinfo); throws when it is not.
std::filesystem::path cgroup2_root();

class RunCgroups {
  public:
    RunCgroups(const std::set<std::string>& names, const RunPrefix& prefix);
    RunCgroups(const RunCgroups&) = delete;
    RunCgroups& operator=(const RunCgroups&) = delete;
    ~RunCgroups();

    // The run's directory relative to the cgroup2 root: what "@cgroup@" stands for.
    const std::string& relative() const { return relative_; }
    std::string path_of(const std::string& name) const;
    // True when nft would not find the groups under /sys/fs/cgroup.
    bool needs_private_mount() const { return root_ != "/sys/fs/cgroup"; }

  private:
    std::filesystem::path root_;
    std::string relative_;
    std::set<std::string> names_;
};

// Directories acctc-tb-* under the cgroup2 root whose run is dead; returns what was removed.
std::vector<std::string> remove_stale_cgroups();

// For a child process about to load a ruleset: a private mount namespace with cgroup2 on
// /sys/fs/cgroup. Nothing of it is visible outside the child.
void mount_cgroup2_privately();

} // namespace acctc::testbench
