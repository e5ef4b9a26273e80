// The BPF pins of network namespaces that no longer exist (docs/runtime.md, "Per-host counters
// in BPF", "Stale pins"): acctc pins per namespace under <root>/acctc/<netns cookie>/, and a
// namespace deleted without `acctc remove` leaves its directory (the maps and their memory)
// behind, since pins outlive every namespace.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <vector>

namespace acctc::runtime {

// The cookies of every network namespace this process can find alive: those of each process
// and thread, each namespace file a process holds open, and each one bind-mounted (`ip netns
// add`) in the mount namespace of any process. Throws where it cannot look (no root).
std::set<std::uint64_t> live_namespace_cookies();

// Removes <root>/acctc/<cookie>/ of every namespace but the calling thread's that is gone: no
// link pinned under it is still attached to a device, and no live namespace has that cookie.
// Nothing else under <root> is touched, nor anything when the namespaces cannot be listed.
// Cheap when there is nothing but the calling namespace's directory (every apply, remove and
// counters calls it). Returns the directories removed.
std::vector<std::filesystem::path> remove_stale_pins();

} // namespace acctc::runtime
