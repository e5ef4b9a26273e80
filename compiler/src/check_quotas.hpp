// `quota`: reading a quota statement against the counters the rest of the policy produced. The
// checker runs it once every counter and classify is known, so a quota may come first.
#pragma once

#include "acctc/diagnostics.hpp"
#include "ast.hpp"
#include "ir.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace acctc {

// The largest budget the kernel takes: nft_quota refuses more than S64_MAX bytes (EOVERFLOW).
inline constexpr std::uint64_t max_quota_bytes = 0x7fffffffffffffffULL;

// What a quota may name: a family (a counter or classify name: all its kernel counters) or one
// member (a split's counter, a class).
// A `split host` family's hosts are counted under host counter names (lan_in, as its set
// lan_in_hosts_v4 reports them); its overflow counters (lan_in_overflow) are no host's.
struct QuotaTargets {
    std::map<std::string, std::vector<std::string>, std::less<>> families;
    std::map<std::string, std::string, std::less<>> members; // kernel counter -> its family
    struct HostShape {
        bool mac = false;
        unsigned v4_prefix = 32;
        unsigned v6_prefix = 128;
        friend bool operator==(const HostShape&, const HostShape&) = default;
    };
    std::map<std::string, HostShape, std::less<>> per_host; // families with `split host`
    std::set<std::string, std::less<>> overflow;            // their overflow counters
};
QuotaTargets quota_targets(const ir::Policy& policy);

// "50 GB", "1.5 GiB": exact bytes, or nothing after reporting why not.
std::optional<std::uint64_t> read_size(const ast::Size& size, Diagnostics& diag);

// Checks every quota of the policy (names unique, also as kernel objects) into policy.quotas.
void check_quotas(const SourceFile& file, const ast::Policy& ast, ir::Policy& policy,
                  Diagnostics& diag);

} // namespace acctc
