#include "wire_quota_budgets.hpp"

#include "acctc/runtime/errors.hpp"
#include "bpf_wire.hpp"
#include "nft_quota_objects.hpp"

#include <algorithm>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <map>

namespace acctc::runtime {
namespace {

constexpr std::string_view table_prefix = "acctc_";

std::uint64_t less(std::uint64_t level, std::uint64_t correction) {
    return level - std::min(level, correction);
}

} // namespace

void add_wire_quota_corrections(std::vector<QuotaReading>& readings) {
    std::map<std::string, std::vector<WireQuotaState>> by_policy;
    for (auto& reading : readings) {
        if (reading.per_host || !reading.object.empty()) {
            continue; // a per-host quota's sets, an nfacct object: never corrected
        }
        auto [it, added] = by_policy.try_emplace(reading.policy);
        if (added) {
            it->second = wire_quotas(reading.policy);
        }
        for (const auto& quota : it->second) {
            if (quota.quota == reading.quota) {
                reading.used = std::min(reading.used + quota.correction, quota.limit);
                reading.limit = quota.limit;
                reading.warn = quota.warn;
                reading.polled = QuotaState::exhausted;
            }
        }
    }
}

std::size_t lower_quota_budgets(NftNetlink& netlink, const std::string& policy) {
    std::size_t lowered = 0;
    for (const auto& name : policy.empty() ? wire_policies() : std::vector{policy}) {
        const std::vector<WireQuotaState> quotas = wire_quotas(name);
        if (quotas.empty()) {
            continue;
        }
        const std::string table = std::string(table_prefix) + name;
        std::vector<std::pair<std::string, std::uint64_t>> updates; // object, budget
        for (const auto& object : dump_quota_objects(netlink, table)) {
            for (const auto& quota : quotas) {
                if (quota.quota != object.identity.quota) {
                    continue;
                }
                const std::uint64_t budget =
                    less(object.identity.role == QuotaRole::warn ? quota.warn : quota.limit,
                         quota.correction);
                // A spent object stays spent (consumed is kept): lowering it further would
                // only re-arm its event.
                if (budget != object.bytes && !object.depleted) {
                    updates.emplace_back(object.object, budget);
                }
            }
        }
        if (updates.empty()) {
            continue;
        }
        // NEWOBJ without NLM_F_EXCL on an existing quota updates its budget and flags
        // (nft_quota_obj_update) and keeps its charge; acctc's quotas are all `over`.
        const auto refused = netlink.transaction(updates.size(), [&](std::size_t i, char* buffer,
                                                                     std::uint32_t sequence) {
            nlmsghdr* message =
                nftnl_nlmsg_build_hdr(buffer, NFT_MSG_NEWOBJ, NFPROTO_INET, NLM_F_CREATE, sequence);
            mnl_attr_put_strz(message, NFTA_OBJ_TABLE, table.c_str());
            mnl_attr_put_strz(message, NFTA_OBJ_NAME, updates[i].first.c_str());
            mnl_attr_put_u32(message, NFTA_OBJ_TYPE, htobe32(NFT_OBJECT_QUOTA));
            nlattr* data = mnl_attr_nest_start(message, NFTA_OBJ_DATA);
            mnl_attr_put_u64(message, NFTA_QUOTA_BYTES, htobe64(updates[i].second));
            mnl_attr_put_u32(message, NFTA_QUOTA_FLAGS, htobe32(NFT_QUOTA_F_INV));
            mnl_attr_nest_end(message, data);
            return message;
        });
        // A table reloaded meanwhile (ENOENT for a quota gone): the next lowering catches up.
        if (!refused.empty() && refused.front().second != ENOENT) {
            throw_system_error("cannot lower the quota budgets of table inet " + table,
                               refused.front().second);
        }
        lowered += refused.empty() ? updates.size() : 0;
    }
    return lowered;
}

std::vector<std::string> wire_quotas_to_create(NftNetlink& netlink, const std::string& table,
                                               const BpfWirePlan& plan) {
    std::vector<std::string> out;
    if (plan.quotas.empty()) {
        return out;
    }
    const std::vector<QuotaEvent> live = dump_quota_objects(netlink, table);
    for (const auto& quota : plan.quotas) {
        const bool exists = std::any_of(live.begin(), live.end(), [&](const QuotaEvent& object) {
            return object.identity.quota == quota.name && object.identity.role == QuotaRole::limit;
        });
        if (!exists) {
            out.push_back(quota.name);
        }
    }
    return out;
}

void settle_wire_quotas(NftNetlink& netlink, const std::string& policy,
                        const std::vector<std::string>& created) {
    for (const auto& quota : created) {
        restart_wire_quota(policy, quota);
    }
    lower_quota_budgets(netlink, policy);
}

} // namespace acctc::runtime
