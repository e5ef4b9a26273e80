// Stage 4, emit: rules::Table -> nftables text for `nft -f`.
#pragma once

#include "rules.hpp"

#include <string>
#include <vector>

namespace acctc {

// A device's egress chain lives in a table of its own, `table netdev NAME.egress_DEVICE` (the
// inet family has no egress hook), with the counter objects it counts into under the inet
// table's names; their comment is `egress_comment`, which the runtime completes with the
// device's link-layer header length at apply time (nft counts link-layer lengths at egress).
struct EgressTable {
    std::string device;
    std::string name;       // NAME.egress_DEVICE
    std::string preamble;   // as NftText's
    std::string definition; // table netdev NAME.egress_DEVICE { ... }
};

inline constexpr const char* egress_comment = "acctc-egress";

struct NftText {
    std::string preamble;   // makes loading idempotent: create, delete, then define
    std::string definition; // table inet NAME { ... }
    std::vector<EgressTable> egress;
};

NftText emit_nft(const rules::Table& table);

} // namespace acctc
