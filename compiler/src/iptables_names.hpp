// Kernel object names of the iptables backend. iptables chain names hold at most 28 characters
// and ipset names 31, so acctc's names are built as
//     acctc-<tag>-<role>
// where <tag> is the policy name when it has at most 10 characters, else its first 4 followed
// by 6 hash characters, and <role> ("input", "c-<counter>", "k-<classify>", ...) keeps its
// text when it fits and otherwise its head followed by 8 hash characters (base 36 of a 64-bit
// FNV-1a of the whole role). Policy and counter names are identifiers (no '-'), so the prefix
// "acctc-<tag>-" tells which chains and sets belong to one policy.
#pragma once

#include "acctc/counter_labels.hpp"
#include "acctc/quota_comment.hpp"

#include <cstdint>
#include <string>

namespace acctc::iptables {

inline constexpr std::size_t max_chain_name = 28;
inline constexpr std::size_t max_set_name = 31;

// "acctc-<tag>-": every chain and set of the policy starts with it.
std::string owned_prefix(const std::string& policy);

// A chain (limit 28) or set (limit 31) name for a role of the policy.
std::string object_name(const std::string& policy, const std::string& role,
                        std::size_t limit = max_chain_name);

// The chain that holds a counter's only counting rule.
std::string counter_chain(const std::string& policy, const std::string& counter);

// nfacct object names hold at most 31 bytes (NFACCT_NAME_MAX less the NUL).
inline constexpr std::size_t max_nfacct_name = 31;

// The chain whose one rule charges a quota's nfacct object (`-m nfacct`, then `-j DROP` when
// the quota enforces); the rules that charge the quota jump there, as counting rules do to a
// counter's chain.
std::string quota_chain(const std::string& policy, const std::string& quota);

// A quota's nfacct object: "acctc-<tag>-<quota>-<hash>", the quota cut to fit, the hash (6
// base-36 characters) over the quota's name, budget, warning level, period and enforcement.
// A quota changed in any of them is a new object (apply carries the use over): an object's
// name alone says what it holds, so a watcher may remember it by name.
std::string quota_object(const std::string& policy, std::uint64_t bytes,
                         const QuotaIdentity& identity);

// xt_comment holds at most 255 characters.
inline constexpr std::size_t max_comment = 255;

// The comment of a counter's counting rule, "acctc:<counter> <metadata>" where the metadata is
// the counter's family, labels and origin as in nft's counter comment (acctc/counter_labels.hpp),
// and of the jump rules in the built-in chains.
std::string counter_comment(const std::string& counter, const CounterIdentity& identity);
std::string jump_comment(const std::string& policy);

} // namespace acctc::iptables
