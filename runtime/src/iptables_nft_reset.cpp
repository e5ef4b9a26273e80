#include "iptables_nft_reset.hpp"

#include "acctc/runtime/errors.hpp"
#include "nft_netlink.hpp"

#include <cerrno>
#include <cstring>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/xt_comment.h>

namespace acctc::runtime {
namespace {

// Linux 6.3's message, after NFT_MSG_DELFLOWTABLE; older uapi headers lack the name.
constexpr std::uint16_t getrule_reset = NFT_MSG_DELFLOWTABLE + 1;
// libnftnl's NFTNL_UDATA_RULE_COMMENT: the type of a comment in a rule's user data.
constexpr unsigned char udata_comment = 0;

// Calls visit for each attribute directly inside a nest.
template <typename Visit>
void each_nested(const nlattr* nest, Visit visit) {
    const auto* end =
        static_cast<const char*>(mnl_attr_get_payload(nest)) + mnl_attr_get_payload_len(nest);
    const auto* attribute = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
    while (
        mnl_attr_ok(attribute, static_cast<int>(end - reinterpret_cast<const char*>(attribute)))) {
        visit(attribute);
        attribute = mnl_attr_next(attribute);
    }
}

std::string bounded_string(const char* data, std::size_t size) {
    return std::string(data, ::strnlen(data, size));
}

// The comment in a rule's user data: type-length-value records of one byte each.
std::string user_data_comment(const nlattr* user_data) {
    const auto* data = static_cast<const unsigned char*>(mnl_attr_get_payload(user_data));
    const std::size_t size = mnl_attr_get_payload_len(user_data);
    for (std::size_t at = 0; at + 2 <= size;) {
        const unsigned char type = data[at];
        const std::size_t length = data[at + 1];
        if (at + 2 + length > size) {
            break;
        }
        if (type == udata_comment) {
            return bounded_string(reinterpret_cast<const char*>(data + at + 2), length);
        }
        at += 2 + length;
    }
    return {};
}

CountedRule counted_rule(const nlmsghdr* message) {
    const NftAttributes rule(message, {MNL_TYPE_UNSPEC, MNL_TYPE_NUL_STRING, MNL_TYPE_NUL_STRING,
                                       MNL_TYPE_U64, MNL_TYPE_NESTED, MNL_TYPE_NESTED, MNL_TYPE_U64,
                                       MNL_TYPE_BINARY});
    CountedRule out;
    out.chain = rule.string(NFTA_RULE_CHAIN);
    std::string comment;
    bool has_target = false;
    if (const nlattr* user_data = rule.raw(NFTA_RULE_USERDATA)) {
        comment = user_data_comment(user_data);
    }
    if (const nlattr* expressions = rule.raw(NFTA_RULE_EXPRESSIONS)) {
        each_nested(expressions, [&](const nlattr* element) {
            const NftAttributes expression(element,
                                           {MNL_TYPE_UNSPEC, MNL_TYPE_NUL_STRING, MNL_TYPE_NESTED});
            const std::string name = expression.string(NFTA_EXPR_NAME);
            const nlattr* data = expression.raw(NFTA_EXPR_DATA);
            if (name == "target") {
                has_target = true;
            }
            if (data == nullptr) {
                return;
            }
            if (name == "counter") {
                // The last counter, as iptables-nft shows a rule's counters.
                const NftAttributes counter(data, {MNL_TYPE_UNSPEC, MNL_TYPE_U64, MNL_TYPE_U64});
                out.packets = counter.u64(NFTA_COUNTER_PACKETS);
                out.bytes = counter.u64(NFTA_COUNTER_BYTES);
            } else if (name == "immediate") {
                const NftAttributes immediate(data,
                                              {MNL_TYPE_UNSPEC, MNL_TYPE_U32, MNL_TYPE_NESTED});
                has_target = has_target || (immediate.has(NFTA_IMMEDIATE_DREG) &&
                                            immediate.u32(NFTA_IMMEDIATE_DREG) == NFT_REG_VERDICT);
            } else if (name == "match") {
                const NftAttributes match(
                    data, {MNL_TYPE_UNSPEC, MNL_TYPE_NUL_STRING, MNL_TYPE_U32, MNL_TYPE_BINARY});
                if (match.string(NFTA_MATCH_NAME) == "comment" && match.has(NFTA_MATCH_INFO)) {
                    const nlattr* info = match.raw(NFTA_MATCH_INFO);
                    comment = bounded_string(
                        static_cast<const char*>(mnl_attr_get_payload(info)),
                        std::min<std::size_t>(mnl_attr_get_payload_len(info), XT_MAX_COMMENT_LEN));
                }
            }
        });
    }
    out.counter = counter_named(comment, has_target);
    out.metadata = counter_metadata(comment);
    return out;
}

} // namespace

std::optional<std::vector<CountedRule>>
reset_iptables_nft_chains(bool ipv6, const std::vector<std::string>& chains) {
    std::vector<CountedRule> out;
    if (chains.empty()) {
        return out;
    }
    NftNetlink netlink;
    const std::uint8_t family = ipv6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    bool first = true;
    for (const auto& chain : chains) {
        const int error = netlink.try_dump(
            getrule_reset, family,
            [&](nlmsghdr* request) {
                mnl_attr_put_strz(request, NFTA_RULE_TABLE, "filter");
                mnl_attr_put_strz(request, NFTA_RULE_CHAIN, chain.c_str());
            },
            [&](const nlmsghdr* reply) { out.push_back(counted_rule(reply)); });
        if (first && (error == EINVAL || error == EOPNOTSUPP)) {
            return std::nullopt; // before Linux 6.3: nothing was zeroed
        }
        first = false;
        if (error != 0 && error != ENOENT) {
            throw_system_error("cannot reset the counters of iptables-nft chain " + chain, error);
        }
    }
    return out;
}

} // namespace acctc::runtime
