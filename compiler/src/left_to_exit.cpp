#include "acctc/left_to_exit.hpp"

#include <mutex>
#include <vector>

namespace acctc {

void keep_until_exit(std::shared_ptr<void> object) {
    static std::mutex mutex;
    // Never destroyed (no destructor runs at the exit to free what it holds).
    static auto* const kept = new std::vector<std::shared_ptr<void>>();
    const std::lock_guard lock(mutex);
    kept->push_back(std::move(object));
}

} // namespace acctc
