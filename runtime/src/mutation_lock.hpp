// Serialises acctc processes that change or reset rulesets in the same network namespace.
#pragma once

namespace acctc::runtime {

// Holds an exclusive flock on /run/acctc/netns-<inode>.lock for the calling thread's current
// namespace, waiting for other holders; released when destroyed (or when the process dies).
class MutationLock {
  public:
    MutationLock();
    ~MutationLock();
    MutationLock(const MutationLock&) = delete;
    MutationLock& operator=(const MutationLock&) = delete;

  private:
    int fd_ = -1;
};

} // namespace acctc::runtime
