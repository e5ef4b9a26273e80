// Transparent huge pages for the heap of a large compile.
#pragma once

#include <cstddef>

namespace acctc::cli {

// Before compiling a policy of `policy_bytes`: when it is large (a MiB or more, some 30,000
// classes), reserves the heap the compile will need in one piece and advises the kernel to back
// it with transparent huge pages. Best effort: a kernel with THP off, or any refusal, leaves
// the heap as it was. Pages are still taken only when first touched.
void prepare_heap_for_policy(std::size_t policy_bytes);

} // namespace acctc::cli
