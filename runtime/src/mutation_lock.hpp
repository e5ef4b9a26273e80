// Serialises acctc processes that change or reset rulesets in the same network namespace.
#pragma once

#include "unique_fd.hpp"

namespace acctc::runtime {

// Holds an exclusive flock on /run/acctc/netns-<inode>.lock for the calling thread's current
// namespace, waiting for other holders; released when destroyed (or when the process dies).
class MutationLock {
  public:
    MutationLock();
    MutationLock(const MutationLock&) = delete;
    MutationLock& operator=(const MutationLock&) = delete;

  private:
    UniqueFd file_;
};

} // namespace acctc::runtime
