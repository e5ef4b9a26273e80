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

inline constexpr std::array<KnownFailure, 4> known_failures{{
    // `! -s 0.0.0.0/0 -d 0.0.0.0/0`: iptables-nft says RULE_APPEND failed (Invalid argument).
    {"issue 11 item 3", Check::iptables_nft_load, R"(0\.0\.0\.0/0)", "RULE_APPEND failed"},
    // Devices with '@' or '+' in `passive via`: nft rejects the unquoted chain ingress_<device>.
    {"issue 11 item 4", Check::nft_check, R"(veth@if3|eth\+)", "ingress_"},
    // `peers of C` only in a class of a classify: the peer sets of C are neither declared nor
    // updated; nft rejects the reference to @peers_C_v4, the iptables emitter throws map::at.
    {"found by this test", Check::nft_check, R"(^ +\w+: .*peers of)",
     "Error: No such file or directory"},
    {"found by this test", Check::compile_iptables, R"(^ +\w+: .*peers of)", "map::at"},
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
