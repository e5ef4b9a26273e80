// Which backend: apart from backend.hpp, so a counter's reading can say which backend read it
// without the backend seam.
#pragma once

namespace acctc::runtime {

// Every backend, one row each in backends() (backend.hpp): nft, the host's iptables
// (iptables-nft on Debian), and the two iptables variants named explicitly (docs/iptables.md).
enum class BackendKind { nftables, iptables, iptables_legacy, iptables_nft };

} // namespace acctc::runtime
