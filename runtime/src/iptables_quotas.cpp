#include "iptables_quotas.hpp"

#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "iptables_exec.hpp"
#include "iptables_save.hpp"
#include "nfacct.hpp"

#include <algorithm>
#include <chrono>
#include <map>

namespace acctc::runtime {
namespace {

constexpr std::string_view object_prefix = "acctc-";

struct Charged {
    std::string policy;
    QuotaIdentity identity;
};

// Object name -> what its charge rule says. A name is a hash of all of it but the policy line
// (iptables_names.hpp), so what was learned of a name stays true while the process runs.
std::map<std::string, Charged>& known() {
    static std::map<std::string, Charged> names;
    return names;
}

// The iptables programs whose rules may charge acctc's objects here: those acctc remembers
// applying a policy with in this namespace, else the host's own iptables. Never an iptables
// nothing was applied with: reading iptables-legacy's tables creates them.
std::vector<IptablesVariant> variants_here() {
    std::vector<IptablesVariant> out;
    for (const BackendKind kind : remembered_backends("", "")) {
        if (const auto variant = iptables_variant(kind)) {
            out.push_back(*variant);
        }
    }
    if (out.empty()) {
        out.push_back(IptablesVariant::automatic);
    }
    return out;
}

// Learns the charge rules of every applied policy from the filter tables.
void learn_charge_rules() {
    for (const IptablesVariant variant : variants_here()) {
        for (const char* tool : {"iptables", "ip6tables"}) {
            ProcessResult saved;
            try {
                saved = run_process({iptables_program(variant, tool, "save"), "-t", "filter"});
            } catch (const RuntimeError&) {
                continue; // not installed: nothing of acctc's there
            }
            if (saved.status != 0) {
                continue; // no such table: nothing of acctc's there either
            }
            const SavedTable table = parse_save(saved.out);
            const auto policies = applied_policies(table);
            for (const auto& rule : table.rules) {
                const auto charge = charge_rule(rule);
                if (!charge) {
                    continue;
                }
                for (const auto& [policy, prefix] : policies) {
                    if (rule.chain.starts_with(prefix) && charge->object.starts_with(prefix)) {
                        known()[charge->object] = {policy, charge->identity};
                    }
                }
            }
        }
    }
}

// What an acctc object that a rule charges is. The rules are read at most once per call, for a
// name not seen before; a name they did not explain (a rule of an iptables acctc does not know
// was applied here) is asked about again only a minute later, so a watcher polling every
// second does not run iptables-save every second.
const Charged* charged(const std::string& name, bool& learned) {
    using Clock = std::chrono::steady_clock;
    static std::map<std::string, Clock::time_point> unexplained;
    auto it = known().find(name);
    if (it != known().end()) {
        return &it->second;
    }
    const auto asked = unexplained.find(name);
    const bool ask =
        asked == unexplained.end() || Clock::now() - asked->second > std::chrono::minutes(1);
    if (!learned && ask) {
        learned = true;
        learn_charge_rules();
        it = known().find(name);
        if (it != known().end()) {
            unexplained.erase(name);
            return &it->second;
        }
        unexplained[name] = Clock::now();
    }
    return nullptr;
}

QuotaReading reading_of(const NfacctObject& object, const Charged& charge) {
    QuotaReading reading;
    reading.policy = charge.policy;
    reading.quota = charge.identity.quota;
    // Capped at the quota, as nft shows a spent quota: the dropped packets are charged too, and
    // a larger budget on the next apply starts from all of it (iptables_quota_load.cpp).
    reading.used = std::min(object.bytes, object.quota);
    reading.warn = charge.identity.warn;
    reading.limit = object.quota;
    reading.identity = charge.identity;
    reading.polled = QuotaState::warning; // no object of its own: read, not announced
    reading.object = object.name;
    return reading;
}

} // namespace

std::vector<QuotaReading> read_nfacct_quotas(const std::string& policy) {
    std::vector<NfacctObject> objects;
    {
        Nfacct nfacct;
        objects = nfacct.list();
    }
    std::vector<QuotaReading> out;
    bool learned = false;
    for (const auto& object : objects) {
        // Not charged: its rules were flushed (`iptables -F`, `nft flush ruleset`); it keeps
        // its use for the apply that loads them again, but counts nothing now.
        if (!object.name.starts_with(object_prefix) || !object.charged() || object.quota == 0) {
            continue;
        }
        const Charged* charge = charged(object.name, learned);
        if (charge != nullptr && (policy.empty() || charge->policy == policy)) {
            out.push_back(reading_of(object, *charge));
        }
    }
    return out;
}

std::vector<QuotaReading> reset_nfacct_quota(const std::string& policy, const std::string& quota) {
    std::vector<QuotaReading> out;
    for (const auto& reading : read_nfacct_quotas(policy)) {
        if (reading.quota != quota) {
            continue;
        }
        Nfacct nfacct;
        if (const auto held = nfacct.get(reading.object, true)) {
            QuotaReading zeroed = reading;
            zeroed.used = std::min(held->bytes, held->quota);
            out.push_back(std::move(zeroed));
        }
    }
    return out;
}

std::optional<QuotaEvent> nfacct_quota_event(const nlmsghdr* message) {
    const auto object = nfacct_object(message);
    if (!object || !object->name.starts_with(object_prefix)) {
        return std::nullopt;
    }
    bool learned = false;
    const Charged* charge = charged(object->name, learned);
    if (charge == nullptr) {
        return std::nullopt;
    }
    return QuotaEvent{charge->policy, object->name,  charge->identity,
                      object->quota,  object->bytes, true};
}

} // namespace acctc::runtime
