#include "iptables_quota_load.hpp"

#include "acctc/runtime/errors.hpp"

#include <algorithm>
#include <cstring>

namespace acctc::runtime {
namespace {

// Deletes the objects with `prefix` that are not in `keep`. An object some rule acctc did not
// write still charges stays (EBUSY): it is no longer acctc's to count.
void delete_objects(Nfacct& nfacct, const std::string& prefix,
                    const std::vector<std::string>& keep) {
    for (const auto& object : nfacct.list()) {
        if (object.name.starts_with(prefix) &&
            std::find(keep.begin(), keep.end(), object.name) == keep.end()) {
            const int error = nfacct.remove_released(object.name);
            if (error != 0 && error != ENOENT && error != EBUSY) {
                throw_system_error("cannot delete nfacct object " + object.name, error);
            }
        }
    }
}

} // namespace

QuotaObjectLoad::QuotaObjectLoad(const CompiledPolicy& policy, const std::string& prefix,
                                 const std::vector<SavedTable>& live)
    : policy_(policy), prefix_(prefix) {
    for (const auto& table : live) {
        for (const auto& rule : table.rules) {
            if (rule.chain.starts_with(prefix)) {
                if (auto charge = charge_rule(rule)) {
                    live_.push_back(std::move(*charge));
                }
            }
        }
    }
}

QuotaObjectLoad::~QuotaObjectLoad() {
    if (committed_) {
        return;
    }
    for (const auto& name : created_) {
        try {
            nfacct_.remove_released(name); // no rule was loaded that charges it
        } catch (const std::exception&) {
            // The socket failed: the object stays, and the next apply or remove deletes it.
        }
    }
}

void QuotaObjectLoad::create() {
    for (const auto& quota : policy_.quotas) {
        for (const auto& object : quota.objects) {
            if (nfacct_.get(object.name)) {
                continue; // kept, with what it counted (a reload, or rules flushed and back)
            }
            std::uint64_t start = 0;
            const auto before = std::find_if(live_.begin(), live_.end(), [&](const auto& rule) {
                return rule.identity.quota == quota.name && rule.object != object.name;
            });
            if (const auto old =
                    before == live_.end() ? std::nullopt : nfacct_.get(before->object)) {
                start = old->bytes;
            } else if (const auto it = policy_.quota_starts.objects.find(object.name);
                       it != policy_.quota_starts.objects.end()) {
                start = it->second;
            }
            const int error = nfacct_.create(object.name, object.bytes, start);
            if (error != 0) {
                throw_system_error("cannot create nfacct object " + object.name, error);
            }
            created_.push_back(object.name);
        }
    }
}

void QuotaObjectLoad::commit() {
    committed_ = true;
    std::vector<std::string> keep;
    for (const auto& quota : policy_.quotas) {
        for (const auto& object : quota.objects) {
            keep.push_back(object.name);
        }
    }
    delete_objects(nfacct_, prefix_, keep);
}

void remove_quota_objects(const std::string& prefix) {
    Nfacct nfacct;
    delete_objects(nfacct, prefix, {});
}

} // namespace acctc::runtime
