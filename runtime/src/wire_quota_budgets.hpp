// Quotas over counters the BPF program corrects for merged packets (docs/counting.md, "Quotas
// on corrected counters"). The kernel's quota objects are charged at the hooks, with merged
// packets' lengths; the program adds what those stood for on the wire to the quota's slot
// (bpf_wire.hpp). So a quota's use is the kernel's charge plus that correction, and the
// kernel's budgets are lowered by the correction so far (an nft quota object's budget can be
// updated in place: nft_quota_obj_update keeps what it consumed), so that it drops and warns
// at the wire's use — up to the correction added since the last lowering.
#pragma once

#include "acctc/bpf_wire_plan.hpp"
#include "acctc/runtime/quotas.hpp"
#include "nft_netlink.hpp"

#include <string>
#include <vector>

namespace acctc::runtime {

// The readings of nft quota objects whose quota is corrected: used = the kernel's charge + the
// correction (at most the budget, as the kernel shows a spent quota), the budget and warning
// level as declared, and the levels read from that use (`polled`): the kernel's events come
// at the lowered budgets, which lag the correction.
void add_wire_quota_corrections(std::vector<QuotaReading>& readings);

// Sets the budgets of the corrected quotas' objects of `policy` (every policy's when empty) to
// their declared budget and warning level less the correction so far; objects already spent
// and budgets already right are left alone. Returns how many objects it lowered.
std::size_t lower_quota_budgets(NftNetlink& netlink, const std::string& policy);

// Before an apply: the plan's quotas that have no object in the table yet. Created anew, they
// start from the period's booked totals (quota_starts.hpp), which hold the correction already.
std::vector<std::string> wire_quotas_to_create(NftNetlink& netlink, const std::string& table,
                                               const BpfWirePlan& plan);

// After an apply: the correction of `created` restarts, and the budgets are lowered.
void settle_wire_quotas(NftNetlink& netlink, const std::string& policy,
                        const std::vector<std::string>& created);

} // namespace acctc::runtime
