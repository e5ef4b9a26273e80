// The bench's own bpffs: acctc pins its BPF objects (per-host counters, the correction of merged
// packets: docs/counting.md) under ACCTC_BPF_ROOT, which the bench points at a bpffs mounted in
// a mount namespace of its own, so that nothing it pins is seen or left on the host.
#pragma once

#include <filesystem>
#include <string>

namespace acctc::testbench {

// Enters a private mount namespace (the calling process must have one thread), mounts a bpffs
// on a new directory under /tmp and sets ACCTC_BPF_ROOT to it; the destructor unmounts it and
// removes the directory. Throws where the kernel refuses.
class PrivateBpffs {
  public:
    PrivateBpffs();
    ~PrivateBpffs();
    PrivateBpffs(const PrivateBpffs&) = delete;
    PrivateBpffs& operator=(const PrivateBpffs&) = delete;

  private:
    std::filesystem::path root_;
};

} // namespace acctc::testbench
