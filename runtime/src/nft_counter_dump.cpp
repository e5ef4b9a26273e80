#include "nft_counter_dump.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

namespace acctc::runtime {

const std::vector<mnl_attr_data_type>& object_attributes() {
    static const auto expected =
        attribute_types(NFTA_OBJ_MAX, {{NFTA_OBJ_TABLE, MNL_TYPE_NUL_STRING},
                                       {NFTA_OBJ_NAME, MNL_TYPE_NUL_STRING},
                                       {NFTA_OBJ_TYPE, MNL_TYPE_U32},
                                       {NFTA_OBJ_DATA, MNL_TYPE_NESTED},
                                       {NFTA_OBJ_USERDATA, MNL_TYPE_BINARY}});
    return expected;
}

std::string_view userdata_comment(const unsigned char* data, std::size_t length,
                                  unsigned char type_wanted) {
    std::size_t at = 0;
    while (at + 2 <= length) {
        const unsigned char type = data[at];
        const std::size_t size = data[at + 1];
        if (at + 2 + size > length) {
            break;
        }
        if (type == type_wanted) {
            const std::string_view comment(reinterpret_cast<const char*>(data + at + 2), size);
            return comment.substr(0, comment.find('\0'));
        }
        at += 2 + size;
    }
    return {};
}

std::string comment_from_userdata(const unsigned char* data, std::size_t length,
                                  unsigned char type_wanted) {
    return std::string(userdata_comment(data, length, type_wanted));
}

std::optional<KernelCounter> counter_from_object(const nlmsghdr* reply) {
    const auto& object_expected = object_attributes();
    static const auto counter_expected =
        attribute_types(NFTA_COUNTER_MAX,
                        {{NFTA_COUNTER_BYTES, MNL_TYPE_U64}, {NFTA_COUNTER_PACKETS, MNL_TYPE_U64}});
    const NftAttributes object(reply, object_expected);
    if (object.u32(NFTA_OBJ_TYPE) != NFT_OBJECT_COUNTER || !object.has(NFTA_OBJ_DATA)) {
        return std::nullopt;
    }
    const NftAttributes values(object.raw(NFTA_OBJ_DATA), counter_expected);
    KernelCounter counter{object.string(NFTA_OBJ_TABLE),
                          object.string(NFTA_OBJ_NAME),
                          values.u64(NFTA_COUNTER_PACKETS),
                          values.u64(NFTA_COUNTER_BYTES),
                          {}};
    if (const nlattr* userdata = object.raw(NFTA_OBJ_USERDATA)) {
        counter.comment =
            comment_from_userdata(static_cast<const unsigned char*>(mnl_attr_get_payload(userdata)),
                                  mnl_attr_get_payload_len(userdata));
    }
    return counter;
}

std::vector<KernelCounter> dump_counters(NftNetlink& netlink, const std::string& table, bool reset,
                                         std::uint8_t family) {
    std::vector<KernelCounter> counters;
    const auto add = [&](nlmsghdr* request) {
        if (!table.empty()) {
            mnl_attr_put_strz(request, NFTA_OBJ_TABLE, table.c_str());
        }
        mnl_attr_put_u32(request, NFTA_OBJ_TYPE, htobe32(NFT_OBJECT_COUNTER));
    };
    const auto on_object = [&](const nlmsghdr* reply) {
        if (auto counter = counter_from_object(reply)) {
            counters.push_back(std::move(*counter));
        }
    };
    const std::uint16_t message = reset ? NFT_MSG_GETOBJ_RESET : NFT_MSG_GETOBJ;
    // A plain read that raced with a ruleset change is simply taken again. A reset dump is
    // kept as it is: every value it returned was zeroed, so nothing is lost or counted twice.
    for (int attempt = 0;; ++attempt) {
        counters.clear();
        if (netlink.dump(message, family, add, on_object) || reset || attempt == 10) {
            return counters;
        }
    }
}

} // namespace acctc::runtime
