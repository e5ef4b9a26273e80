// What the differential tests check for each generated policy, and the known compiler bugs that
// still fail some of those checks. A known failure is reported, not failed on; one that starts
// passing is reported too, so the entry can go. Keep this list short and every entry tied to an
// open issue.
#pragma once

#include "policy_generator.hpp"

#include <array>
#include <regex>
#include <string_view>

namespace acctc::differential {

enum class Check {
    compile_nft,      // compile_source for nft returns (no exception)
    compile_iptables, // the same for iptables
    nft_check,        // nft -c -f
    nft_load,         // nft -f, in a throwaway namespace
    iptables_test,    // {ip,ip6}tables-{legacy,nft}-restore --test (and ipset restore)
    iptables_legacy_load,
    iptables_nft_load,
};

inline constexpr std::array<std::string_view, 7> check_names{
    "compile for nft",         "compile for iptables",    "nft -c -f",           "nft -f",
    "iptables-restore --test", "load on iptables-legacy", "load on iptables-nft"};

inline std::string_view name_of(Check check) {
    return check_names[static_cast<std::size_t>(check)];
}

struct KnownFailure {
    std::string_view issue; // where the bug is tracked
    Check check;
    std::string_view pattern; // an ECMAScript regex some line of the policy text holds
    std::string_view error;   // what the failure's message contains
};

inline constexpr std::array<KnownFailure, 0> known_failures{{
}};

// The known failure that explains `check` failing on `policy` with `error`, if any.
inline const KnownFailure* known_failure(const GeneratedPolicy& policy, Check check,
                                         std::string_view error) {
    for (const KnownFailure& known : known_failures) {
        if (known.check == check && error.find(known.error) != std::string_view::npos &&
            std::regex_search(policy.text,
                              std::regex(std::string(known.pattern),
                                         std::regex::ECMAScript | std::regex::multiline))) {
            return &known;
        }
    }
    return nullptr;
}

} // namespace acctc::differential
