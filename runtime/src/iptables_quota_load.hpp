// The nfacct objects of a policy's quotas, as the iptables backend loads and removes them
// (docs/iptables.md, "Quotas"). A rule can only name an object that exists, and an object in
// use cannot be deleted: objects are created before the restore that charges them and deleted
// after the restore (or the removal) that stops charging them. acctc touches only objects
// named with the policy's prefix ("acctc-<tag>-"), which only it creates.
#pragma once

#include "acctc/compile.hpp"
#include "iptables_save.hpp"
#include "nfacct.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

class QuotaObjectLoad {
  public:
    // live: the filter tables (iptables, ip6tables) as saved before the load.
    QuotaObjectLoad(const CompiledPolicy& policy, const std::string& prefix,
                    const std::vector<SavedTable>& live);
    ~QuotaObjectLoad(); // without commit(): deletes what create() made
    QuotaObjectLoad(const QuotaObjectLoad&) = delete;
    QuotaObjectLoad& operator=(const QuotaObjectLoad&) = delete;

    // Creates the objects the new rules charge that do not exist yet. A quota whose rules
    // charged another object (its budget, warning level, period or enforcement changed) goes
    // on from that object's use; a quota without one (a reboot) from the period totals
    // (policy.quota_starts); an object that exists keeps its own use.
    void create();
    // After the restore: deletes the policy's objects no rule charges any more.
    void commit();

  private:
    Nfacct nfacct_;
    const CompiledPolicy& policy_;
    std::string prefix_;
    std::vector<ChargeRule> live_; // the policy's charge rules before the load
    std::vector<std::string> created_;
    bool committed_ = false;
};

// After the policy's rules are gone: deletes every object with its prefix.
void remove_quota_objects(const std::string& prefix);

} // namespace acctc::runtime
