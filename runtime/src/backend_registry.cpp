// The table of backends: the one place that knows which backends exist and what each one is.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "iptables_exec.hpp"
#include "nft_backend.hpp"

#include <array>
#include <stdexcept>

namespace acctc::runtime {
namespace {

constexpr std::string_view iptables_flushed = "`iptables -F` and `-X`, a firewall's restart";

template <BackendKind kind>
std::unique_ptr<Backend> make_iptables(const std::string& netns) {
    return make_iptables_backend(netns, *iptables_variant(kind));
}

constexpr std::array<BackendInfo, 4> table{{
    {BackendKind::nftables, "nft", Target::nft, "table",
     "`nft flush ruleset`, a restart of nftables.service",
     "one nftables table per policy, loaded and read through libnftables and netlink",
     [](const std::string& netns) -> std::unique_ptr<Backend> {
         return std::make_unique<NftBackend>(netns);
     }},
    {BackendKind::iptables, "iptables", Target::iptables, "chains", iptables_flushed,
     "iptables and ip6tables as installed (iptables-nft on Debian), peer sets in ipset",
     &make_iptables<BackendKind::iptables>},
    {BackendKind::iptables_legacy, "iptables-legacy", Target::iptables, "chains", iptables_flushed,
     "the iptables-legacy programs (x_tables), peer sets in ipset",
     &make_iptables<BackendKind::iptables_legacy>},
    {BackendKind::iptables_nft, "iptables-nft", Target::iptables, "chains", iptables_flushed,
     "the iptables-nft programs (x_tables rules in nf_tables), peer sets in ipset",
     &make_iptables<BackendKind::iptables_nft>},
}};

// Row i describes BackendKind i, so a kind added without its row fails to compile.
constexpr bool rows_in_order() {
    for (std::size_t i = 0; i < table.size(); ++i) {
        if (static_cast<std::size_t>(table[i].kind) != i) {
            return false;
        }
    }
    return true;
}
static_assert(rows_in_order(), "one row per BackendKind, in the enum's order");
static_assert(static_cast<std::size_t>(BackendKind::iptables_nft) + 1 == table.size(),
              "every BackendKind has its row");

} // namespace

std::span<const BackendInfo> backends() {
    return table;
}

const BackendInfo& backend_info(BackendKind kind) {
    const auto index = static_cast<std::size_t>(kind);
    if (index >= table.size()) {
        throw std::logic_error("unknown backend kind");
    }
    return table[index];
}

const BackendInfo* backend_named(std::string_view name) {
    for (const auto& row : table) {
        if (row.name == name) {
            return &row;
        }
    }
    return nullptr;
}

std::string backend_names(std::string_view last_separator) {
    std::string names;
    for (std::size_t i = 0; i < table.size(); ++i) {
        names += i == 0 ? "" : i + 1 == table.size() ? last_separator : ", ";
        names += table[i].name;
    }
    return names;
}

namespace {

// Puts the backend's kind on every reading a backend returns, in one place for every backend.
class ReadingsWithKind final : public Backend {
  public:
    ReadingsWithKind(BackendKind kind, std::unique_ptr<Backend> backend)
        : kind_(kind), backend_(std::move(backend)) {}

    ApplyReport apply(const CompiledPolicy& policy, bool dry_run) override {
        auto report = backend_->apply(policy, dry_run);
        mark(report.kept);
        mark(report.removed);
        return report;
    }
    std::vector<CounterReading> counters(const std::string& policy, bool reset) override {
        auto readings = backend_->counters(policy, reset);
        mark(readings);
        return readings;
    }
    EveryPolicyReadings every_policy(bool reset) override {
        auto read = backend_->every_policy(reset);
        mark(read.readings);
        return read;
    }
    RemoveReport remove(const std::string& policy) override {
        auto report = backend_->remove(policy);
        mark(report.final_counters);
        return report;
    }
    std::string live_ruleset(const std::string& policy) override {
        return backend_->live_ruleset(policy);
    }
    std::string planned_ruleset(const CompiledPolicy& policy) override {
        return backend_->planned_ruleset(policy);
    }

  private:
    void mark(std::vector<CounterReading>& readings) const {
        for (auto& reading : readings) {
            reading.sample.backend = kind_;
        }
    }

    BackendKind kind_;
    std::unique_ptr<Backend> backend_;
};

} // namespace

std::unique_ptr<Backend> make_backend(BackendKind kind, const std::string& netns) {
    return std::make_unique<ReadingsWithKind>(kind, backend_info(kind).make(netns));
}

std::optional<IptablesVariant> iptables_variant(BackendKind kind) {
    switch (kind) {
    case BackendKind::nftables:
        return std::nullopt;
    case BackendKind::iptables:
        return IptablesVariant::automatic;
    case BackendKind::iptables_legacy:
        return IptablesVariant::legacy;
    case BackendKind::iptables_nft:
        return IptablesVariant::nft;
    }
    return std::nullopt;
}

BackendKind resolved_backend(BackendKind kind) {
    if (kind != BackendKind::iptables) {
        return kind;
    }
    static const BackendKind installed = [] {
        switch (installed_variant("iptables").value_or(IptablesVariant::automatic)) {
        case IptablesVariant::nft:
            return BackendKind::iptables_nft;
        case IptablesVariant::legacy:
            return BackendKind::iptables_legacy;
        case IptablesVariant::automatic:
            break;
        }
        return BackendKind::iptables;
    }();
    return installed;
}

std::string backend_label(BackendKind given, BackendKind resolved) {
    const std::string name(backend_info(resolved).name);
    return given == resolved ? name : std::string(backend_info(given).name) + " (" + name + ")";
}

std::string kernel_object(BackendKind kind, const std::string& object) {
    return backend_info(kind).target == Target::nft ? "table inet " + object
                                                    : "iptables chains " + object + "*";
}

} // namespace acctc::runtime
