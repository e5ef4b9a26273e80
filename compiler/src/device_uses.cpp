#include "device_uses.hpp"

#include <algorithm>

namespace acctc {
namespace {

void add(std::vector<DeviceUse>& uses, const ir::Match& match, const std::string& user,
         const std::string& origin) {
    for (const auto& device : match.via) {
        auto use = std::find_if(uses.begin(), uses.end(),
                                [&](const DeviceUse& u) { return u.device == device; });
        if (use == uses.end()) {
            uses.push_back({device, {}});
            use = std::prev(uses.end());
        }
        const DeviceUser entry{user, origin};
        if (std::find_if(use->users.begin(), use->users.end(),
                         [&](const DeviceUser& u) { return u.name == user; }) == use->users.end()) {
            use->users.push_back(entry);
        }
    }
}

} // namespace

std::vector<DeviceUse> device_uses(const ir::Policy& policy) {
    std::vector<DeviceUse> uses;
    for (const auto& counter : policy.counters) {
        add(uses, counter.match, "counter " + counter.name, counter.origin);
    }
    for (const auto& classify : policy.classifies) {
        add(uses, classify.scope, "classify " + classify.name, classify.origin);
        for (const auto& member : classify.classes) {
            add(uses, member.match, "classify " + classify.name, classify.origin);
        }
    }
    for (const auto& verdict : policy.verdicts) {
        add(uses, verdict.match, verdict.verdict == ir::Verdict::drop ? "drop" : "accept",
            verdict.origin);
    }
    return uses;
}

} // namespace acctc
