// Stage 4, emit: rules::Table -> nftables text for `nft -f`.
#pragma once

#include "rules.hpp"

#include <string>

namespace acctc {

struct NftText {
    std::string preamble;   // makes loading idempotent: create, delete, then define
    std::string definition; // table inet NAME { ... }
};

NftText emit_nft(const rules::Table& table);

} // namespace acctc
