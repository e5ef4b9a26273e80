// nftables inside a bench namespace, through the nft binary run there (the runtime library's
// apply/counters take over once they can target a namespace).
#pragma once

#include "acctc/testbench/netns.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace acctc::testbench {

struct CounterValue {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    bool operator==(const CounterValue&) const = default;
};

// Runs `nft -f -` with `ruleset` in the namespace; throws with nft's messages on failure.
void load_ruleset(const NamedNetns& netns, const std::string& ruleset);

// Named counters of `table` (family inet), by name.
std::map<std::string, CounterValue> read_counters(const NamedNetns& netns,
                                                  const std::string& table);

// Runs nft with `arguments` in the namespace and returns its standard output.
std::string run_nft(const NamedNetns& netns, const std::vector<std::string>& arguments,
                    const std::string& input = {});

} // namespace acctc::testbench
