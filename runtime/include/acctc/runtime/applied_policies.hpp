// Which policies `acctc apply` loaded in a network namespace, so that a ruleset flushed behind
// acctc's back (`nft flush ruleset`, a restart of nftables.service) reads as "policy X is not
// loaded" instead of as a policy without counters.
#pragma once

#include "acctc/runtime/backend.hpp"

#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

// Marks under /run/acctc/applied/netns-<cookie>/<backend>/<policy>, <backend> as the table of
// backends names resolved_backend(given) (backend.hpp): one mark per policy and backend the
// kernel holds it in, whichever spelling applied or removes it (`iptables` or `iptables-nft`).
// The mark holds the name given when it is another (`iptables`), for applied_label. The cookie
// (SO_NETNS_COOKIE) is never reused, unlike a namespace's inode number, so a mark cannot outlive
// its namespace into a new one. netns as for NetnsScope. Best effort: a mark that cannot be written
// (no /run, an old kernel) is no mark.
void remember_applied(const std::string& netns, BackendKind given, const std::string& policy);
void forget_applied(const std::string& netns, BackendKind backend, const std::string& policy);
// Sorted; empty when nothing was remembered.
std::vector<std::string> applied_policies(const std::string& netns, BackendKind backend);
// The backends acctc remembers applying `policy` with here (empty policy: any policy), in the
// table's order, resolved (never `iptables` where it resolves to a variant).
std::vector<BackendKind> remembered_backends(const std::string& netns, const std::string& policy);
// How messages name the backend `policy` was applied with here: "iptables (iptables-nft)" when
// it was given as `iptables`, else the resolved backend's name.
std::string applied_label(const std::string& netns, BackendKind backend, const std::string& policy);

struct AppliedPolicy {
    BackendKind backend;
    std::string policy;
    // Not gone but half-loaded: its apply stopped between the two steps of a new nft table
    // (EveryPolicyReadings::unfinished), so the table is there and counts nothing.
    bool unfinished = false;
};

// The policies remembered as applied here with `backend` whose table (or chains) it no longer
// finds; those in `accounted` (read, or found half-loaded by the read) cost no further look.
std::vector<std::string> unloaded_policies(const std::string& netns, BackendKind backend_kind,
                                           Backend& backend,
                                           const std::set<std::string>& accounted);

// "policy X is not loaded ..." (or "counts nothing ..." for an unfinished apply) for the user,
// with what probably happened and the fix.
std::string not_loaded_message(const AppliedPolicy& policy, const std::string& netns);

} // namespace acctc::runtime
