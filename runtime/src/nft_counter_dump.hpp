// Named counters straight from the kernel with NFT_MSG_GETOBJ(_RESET) dumps: one round of
// netlink messages however many counters there are.
#pragma once

#include "nft_netlink.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctc::runtime {

struct KernelCounter {
    std::string table;
    std::string name;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::string comment;
};

// Counters of one inet table, or of every inet table when table is empty. With reset each
// counter is read and zeroed atomically by the kernel. The kernel restarts its walk over all
// objects for every reply datagram, so this takes time quadratic in the number of objects
// (about 5 s for 100,000): nft_counter_read.hpp reads by name when it knows the names.
// The attribute types of an nf_tables object message (NFTA_OBJ_*): table, name, type, data,
// userdata (the comment).
const std::vector<mnl_attr_data_type>& object_attributes();

// family: NFPROTO_NETDEV for the egress tables (nft_egress.hpp).
std::vector<KernelCounter> dump_counters(NftNetlink& netlink, const std::string& table, bool reset,
                                         std::uint8_t family = 1 /* NFPROTO_INET */);

// The counter an NFT_MSG_NEWOBJ message (a dump or lookup reply) describes; empty for other
// object types.
std::optional<KernelCounter> counter_from_object(const nlmsghdr* reply);

// The comment nft stores in an object's user data (libnftnl's type-length-value records);
// `type` is the comment's record type: 0 for objects (NFTNL_UDATA_OBJ_COMMENT), 7 for sets.
std::string comment_from_userdata(const unsigned char* data, std::size_t length,
                                  unsigned char type = 0);
// The same as a view of `data`, for the many records only looked at.
std::string_view userdata_comment(const unsigned char* data, std::size_t length,
                                  unsigned char type = 0);

} // namespace acctc::runtime
