// The nftables backend: one `table inet acctc_<policy>` per policy, loaded with libnftables,
// inspected and read through netlink dumps.
#pragma once

#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/netns.hpp"
#include "bpf_policy_pins.hpp"
#include "nft_netlink.hpp"

#include <vector>

namespace acctc::runtime {

class NftBackend final : public Backend {
  public:
    explicit NftBackend(const std::string& netns);

    ApplyReport apply(const CompiledPolicy& policy, bool dry_run) override;
    std::vector<CounterReading> counters(const std::string& policy, bool reset) override;
    EveryPolicyReadings every_policy(bool reset) override;
    RemoveReport remove(const std::string& policy) override;
    std::string live_ruleset(const std::string& policy) override;
    std::string planned_ruleset(const CompiledPolicy& policy) override;

  private:
    // apply() of the nft table, once the BPF per-host counters and classes are in place: their
    // `bpf_applied` pins are finished once its commit went through (else put back as they were).
    ApplyReport apply_table(const CompiledPolicy& policy, bool dry_run,
                            std::vector<AppliedPins>& bpf_applied);
    // Throws ErrorKind::unknown_table unless the policy's table exists here.
    void require_table(const std::string& policy, const std::string& table);
    // Runs nft text as one transaction; on failure throws with the policy lines that caused it.
    void run_transaction(const std::string& text, const std::string& table, bool dry_run);
    std::vector<CounterReading> readings(const std::string& table, bool reset);
    std::vector<CounterReading> readings_once(const std::string& table, bool reset);

    std::string netns_;
    NetnsScope scope_; // entered first: the socket below belongs to the target namespace
    NftNetlink netlink_;
};

} // namespace acctc::runtime
