#include "nft_counter_lookup.hpp"

#include "acctc/runtime/errors.hpp"

#include <cerrno>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <optional>

namespace acctc::runtime {

CounterLookup lookup_counters(NftNetlink& netlink, const std::string& table,
                              const std::vector<std::string>& names, bool reset) {
    std::vector<std::optional<KernelCounter>> answers(names.size());
    netlink.pipeline(
        reset ? NFT_MSG_GETOBJ_RESET : NFT_MSG_GETOBJ, NFPROTO_INET, names.size(),
        [&](std::size_t item, nlmsghdr* request) {
            mnl_attr_put_strz(request, NFTA_OBJ_TABLE, table.c_str());
            mnl_attr_put_strz(request, NFTA_OBJ_NAME, names[item].c_str());
            mnl_attr_put_u32(request, NFTA_OBJ_TYPE, htobe32(NFT_OBJECT_COUNTER));
        },
        [&](std::size_t item, const nlmsghdr* reply) {
            answers[item] = counter_from_object(reply);
        },
        [&](std::size_t item, int error) {
            if (error != ENOENT) {
                throw_system_error("cannot read counter " + names[item] + " of table inet " + table,
                                   error);
            }
            // Left empty: reported as missing.
        });
    CounterLookup lookup;
    lookup.found.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (answers[i]) {
            lookup.found.push_back(std::move(*answers[i]));
        } else {
            lookup.missing.push_back(names[i]);
        }
    }
    return lookup;
}

} // namespace acctc::runtime
