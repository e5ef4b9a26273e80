// The iptables backend (docs/iptables.md): the policy's chains in the filter table of
// iptables and ip6tables, loaded with `iptables-restore --noflush`, read with `iptables-save -c`,
// peer sets in ipset. It never touches a chain or set without the policy's prefix, nor a rule in
// INPUT/OUTPUT/FORWARD other than its own jumps.
#pragma once

#include "acctc/runtime/backend.hpp"

#include <memory>
#include <optional>
#include <string>

namespace acctc::runtime {

// Which iptables the host runs: `iptables-restore` as installed (automatic), or the
// iptables-legacy-* / iptables-nft-* programs explicitly.
enum class IptablesVariant { automatic, legacy, nft };

// The iptables a backend of the table runs (backend_registry.cpp); nothing for nft.
std::optional<IptablesVariant> iptables_variant(BackendKind kind);

// The iptables rows of backends() (backend.hpp); commands reach it through that table. netns as
// for make_backend: /run/netns/NAME entered for the backend's lifetime, or empty.
std::unique_ptr<Backend>
make_iptables_backend(const std::string& netns,
                      IptablesVariant variant = IptablesVariant::automatic);

} // namespace acctc::runtime
