// Objects a process that is about to exit does not free: acctc compile and acctc check build
// hundreds of thousands of heap blocks for 100,000 classes (checked policy, lowered table,
// compiled texts), and freeing them one by one is ~10 % of such a compile. The exit hands the
// pages back at once (clang's -disable-free, for the same reason).
#pragma once

#include <memory>
#include <utility>

namespace acctc {

// Keeps the object alive until the process exits (reachable, so leak checkers stay quiet).
void keep_until_exit(std::shared_ptr<void> object);

// Moves value into an object kept until the exit; the reference stays valid until then.
template <typename T>
T& left_to_exit(T value) {
    auto kept = std::make_shared<T>(std::move(value));
    T& object = *kept;
    keep_until_exit(std::move(kept));
    return object;
}

} // namespace acctc
