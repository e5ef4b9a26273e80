#include "huge_page_heap.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace acctc::cli {
namespace {

// Why: compiling 100,000 classes touches ~170 MB of fresh heap, ~44,000 page faults of 4 KiB,
// a quarter of the compile's CPU time; on 2 MiB pages it is ~4,500 (docs/performance.md). glibc
// does this itself with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which a program cannot set for
// itself once it runs. So: one brk for the whole reservation, advised at once; trimming off, so
// a free at the top does not hand back (and later re-grow without the advice) part of it.
void reserve_heap_on_huge_pages(std::size_t bytes) {
    constexpr std::size_t largest_heap_chunk = 32u << 20; // glibc's highest mmap threshold
    if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(largest_heap_chunk)) == 0 ||
        mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes)) == 0 ||
        mallopt(M_TOP_PAD, static_cast<int>(bytes)) == 0) {
        return;
    }
    // One block larger than the heap's free top makes malloc extend the heap by the pad.
    const auto free_top = mallinfo2().keepcost;
    void* block = std::malloc(free_top + 1);
    if (block == nullptr) {
        return;
    }
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto start = (reinterpret_cast<std::uintptr_t>(block) + page - 1) & ~(page - 1);
    const auto end = reinterpret_cast<std::uintptr_t>(::sbrk(0));
    std::free(block);
    mallopt(M_TOP_PAD, 0); // later growth as usual
    if (end > start) {
        ::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
    }
}

} // namespace

void prepare_heap_for_policy(std::size_t policy_bytes) {
    constexpr std::size_t large_policy = 1u << 20;
    // The nft compile peaks at ~60-75 bytes of heap per byte of policy (element counters
    // included), the iptables one at ~140: 96 keeps the nft compile within the advised range.
    constexpr std::size_t heap_per_policy_byte = 96;
    constexpr std::size_t largest_reservation = 1u << 30;
    if (policy_bytes >= large_policy) {
        reserve_heap_on_huge_pages(
            std::min(policy_bytes * heap_per_policy_byte, largest_reservation));
    }
}

} // namespace acctc::cli
