// The counter names of each acctc table, remembered under /run/acctc so that reading counters
// can go by name instead of through the kernel's quadratic object dump. A cache only: a missing,
// unreadable or unwritable file costs one slow dump, never a wrong count.
#pragma once

#include "nft_inventory.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

struct RememberedCounters {
    TableShape shape; // of the table when the names were true
    std::vector<std::string> names;
};

// Files of the calling thread's current network namespace: /run/acctc/netns-<inode>/<table>.
class CounterNameCache {
  public:
    CounterNameCache();
    explicit CounterNameCache(std::string directory); // for tests

    std::optional<RememberedCounters> load(const std::string& table) const;
    void store(const std::string& table, const RememberedCounters& counters) const;
    void forget(const std::string& table) const;

  private:
    // Empty for a table name that cannot be a file name here.
    std::optional<std::string> path_of(const std::string& table) const;
    std::string directory_;
};

} // namespace acctc::runtime
