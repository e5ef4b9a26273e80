// The counter names of each acctc table, remembered under /run/acctc so that reading counters
// can go by name instead of through the kernel's quadratic object dump. A cache only, and never
// trusted: a missing, unreadable, unwritable, damaged or stale file costs one slow dump, never a
// wrong count (nft_counter_read.cpp checks the names against the kernel before using them).
#pragma once

#include "nft_inventory.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctc::runtime {

// That the names were checked to be exactly the table's counters while the ruleset of the
// namespace with this cookie was at `generation` (ruleset_generation()); `digest` is
// names_digest() of the names checked, so a record whose names changed afterwards (edited, cut
// short) no longer makes the claim, nor does one copied to another namespace.
struct NamesVerified {
    std::uint32_t generation = 0;
    std::uint64_t digest = 0;
    std::uint64_t netns_cookie = 0;
    friend bool operator==(const NamesVerified&, const NamesVerified&) = default;
};

struct RememberedCounters {
    RememberedCounters() = default;
    RememberedCounters(TableShape of_table, std::vector<std::string> counter_names,
                       std::optional<NamesVerified> names_verified = std::nullopt)
        : shape(of_table), names(std::move(counter_names)), verified(names_verified) {}

    TableShape shape;               // of the table when the names were true
    std::vector<std::string> names; // distinct; in byte order when loaded
    std::optional<NamesVerified> verified;
};

// A digest of a set of names (64 bits, whatever their order).
std::uint64_t names_digest(const std::vector<std::string>& names);

// One file per table in run_directory() (run_files.hpp: keyed by the namespace's cookie; only
// regular files read, never through a link, never waiting on a FIFO, at most max_file_bytes).
class CounterNameCache {
  public:
    static constexpr std::size_t max_file_bytes = 64U << 20; // 250,000 names of 255 bytes

    CounterNameCache(); // in run_directory(); disabled when that is empty
    explicit CounterNameCache(std::string directory); // for tests

    std::optional<RememberedCounters> load(const std::string& table) const;
    void store(const std::string& table, const RememberedCounters& counters) const;
    void forget(const std::string& table) const;

    const std::string& directory() const { return directory_; }

  private:
    std::string directory_; // empty: nothing is remembered
};

} // namespace acctc::runtime
