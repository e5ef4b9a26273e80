#include "packet_path.hpp"

#include <chrono>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace acctc::runtime {

void wait_for_packet_path() {
    // MEMBARRIER_CMD_GLOBAL runs synchronize_rcu() in the kernel: a full grace period.
    if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0) {
        return;
    }
    // Without membarrier (nohz_full kernels), a pause far longer than any packet's walk.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

} // namespace acctc::runtime
