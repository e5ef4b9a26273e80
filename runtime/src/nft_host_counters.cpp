#include "nft_host_counters.hpp"

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/errors.hpp"
#include "nft_counter_dump.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

namespace acctc::runtime {
namespace {

// libnftnl's NFTNL_UDATA_SET_COMMENT.
constexpr unsigned char set_userdata_comment = 7;
// Linux 6.5's NFT_MSG_GETSETELEM_RESET, newer than this system's headers.
constexpr std::uint16_t msg_getsetelem_reset = 33;

// The quota of an expression (NFTA_EXPR_NAME "quota"): its size and what was charged to it.
template <typename OnQuota>
bool read_quota(const nlattr* expression, OnQuota on_quota) {
    static const auto expected = attribute_types(
        NFTA_EXPR_MAX, {{NFTA_EXPR_NAME, MNL_TYPE_NUL_STRING}, {NFTA_EXPR_DATA, MNL_TYPE_NESTED}});
    static const auto quota = attribute_types(NFTA_QUOTA_MAX, {{NFTA_QUOTA_BYTES, MNL_TYPE_U64},
                                                               {NFTA_QUOTA_CONSUMED, MNL_TYPE_U64},
                                                               {NFTA_QUOTA_FLAGS, MNL_TYPE_U32}});
    const NftAttributes attributes(expression, expected);
    if (attributes.string(NFTA_EXPR_NAME) != "quota" || !attributes.has(NFTA_EXPR_DATA)) {
        return false;
    }
    const NftAttributes values(attributes.raw(NFTA_EXPR_DATA), quota);
    on_quota(values.has(NFTA_QUOTA_BYTES) ? values.u64(NFTA_QUOTA_BYTES) : 0,
             values.has(NFTA_QUOTA_CONSUMED) ? values.u64(NFTA_QUOTA_CONSUMED) : 0);
    return true;
}

} // namespace

std::vector<CommentedSet> commented_sets(NftNetlink& netlink, const std::string& table,
                                         const std::function<bool(const std::string&)>& wanted) {
    static const auto expected =
        attribute_types(NFTA_SET_MAX, {{NFTA_SET_TABLE, MNL_TYPE_NUL_STRING},
                                       {NFTA_SET_NAME, MNL_TYPE_NUL_STRING},
                                       {NFTA_SET_USERDATA, MNL_TYPE_BINARY},
                                       {NFTA_SET_EXPR, MNL_TYPE_NESTED}});
    std::vector<CommentedSet> sets;
    // A table that is not there has no sets (quotas of a policy not applied, or just flushed).
    const int error = netlink.try_dump(
        NFT_MSG_GETSET, NFPROTO_INET,
        [&](nlmsghdr* request) {
            if (!table.empty()) {
                mnl_attr_put_strz(request, NFTA_SET_TABLE, table.c_str());
            }
        },
        [&](const nlmsghdr* reply) {
            const NftAttributes set(reply, expected);
            const nlattr* userdata = set.raw(NFTA_SET_USERDATA);
            if ((!table.empty() && set.string(NFTA_SET_TABLE) != table) || userdata == nullptr) {
                return;
            }
            std::string comment = comment_from_userdata(
                static_cast<const unsigned char*>(mnl_attr_get_payload(userdata)),
                mnl_attr_get_payload_len(userdata), set_userdata_comment);
            if (wanted(comment)) {
                CommentedSet out{set.string(NFTA_SET_TABLE), set.string(NFTA_SET_NAME),
                                 std::move(comment), std::nullopt};
                if (const nlattr* expression = set.raw(NFTA_SET_EXPR)) {
                    read_quota(expression, [&](std::uint64_t bytes, std::uint64_t) {
                        out.quota_bytes = bytes;
                    });
                }
                sets.push_back(std::move(out));
            }
        });
    if (error != 0 && error != ENOENT) {
        throw RuntimeError(ErrorKind::system, "cannot list the sets of table inet " + table + ": " +
                                                  std::strerror(error));
    }
    return sets;
}

namespace {

std::string mac_text(const unsigned char* bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    for (int i = 0; i < 6; ++i) {
        text += i == 0 ? "" : ":";
        text += hex[bytes[i] >> 4];
        text += hex[bytes[i] & 15];
    }
    return text;
}

std::string address_text(const nlattr* value) {
    const auto length = mnl_attr_get_payload_len(value);
    if (length == 6) { // ether_addr (split host mac): aa:bb:cc:dd:ee:ff, as nft prints it
        return mac_text(static_cast<const unsigned char*>(mnl_attr_get_payload(value)));
    }
    char text[INET6_ADDRSTRLEN] = {};
    if ((length != 4 && length != 16) ||
        inet_ntop(length == 4 ? AF_INET : AF_INET6, mnl_attr_get_payload(value), text,
                  sizeof text) == nullptr) {
        return {};
    }
    return text;
}

// The counter of one element's expression, when it is a counter.
bool read_counter(const nlattr* expression, KernelHostCounter& into) {
    static const auto expected = attribute_types(
        NFTA_EXPR_MAX, {{NFTA_EXPR_NAME, MNL_TYPE_NUL_STRING}, {NFTA_EXPR_DATA, MNL_TYPE_NESTED}});
    static const auto counter =
        attribute_types(NFTA_COUNTER_MAX,
                        {{NFTA_COUNTER_BYTES, MNL_TYPE_U64}, {NFTA_COUNTER_PACKETS, MNL_TYPE_U64}});
    const NftAttributes attributes(expression, expected);
    if (attributes.string(NFTA_EXPR_NAME) != "counter" || !attributes.has(NFTA_EXPR_DATA)) {
        return false;
    }
    const NftAttributes values(attributes.raw(NFTA_EXPR_DATA), counter);
    into.packets = values.u64(NFTA_COUNTER_PACKETS);
    into.bytes = values.u64(NFTA_COUNTER_BYTES);
    return true;
}

// One element: its key as text and each of its expressions.
template <typename OnExpression>
void read_element(const nlattr* element, OnExpression on_expression) {
    static const auto expected =
        attribute_types(NFTA_SET_ELEM_MAX, {{NFTA_SET_ELEM_KEY, MNL_TYPE_NESTED},
                                            {NFTA_SET_ELEM_EXPR, MNL_TYPE_NESTED},
                                            {NFTA_SET_ELEM_EXPRESSIONS, MNL_TYPE_NESTED}});
    static const auto data = attribute_types(NFTA_DATA_MAX, {{NFTA_DATA_VALUE, MNL_TYPE_BINARY}});
    const NftAttributes attributes(element, expected);
    if (!attributes.has(NFTA_SET_ELEM_KEY)) {
        return;
    }
    const NftAttributes key(attributes.raw(NFTA_SET_ELEM_KEY), data);
    if (!key.has(NFTA_DATA_VALUE)) {
        return;
    }
    const std::string host = address_text(key.raw(NFTA_DATA_VALUE));
    if (host.empty()) {
        return;
    }
    if (const nlattr* one = attributes.raw(NFTA_SET_ELEM_EXPR)) {
        on_expression(host, one);
    } else if (const nlattr* list = attributes.raw(NFTA_SET_ELEM_EXPRESSIONS)) {
        each_nested(list, [&](const nlattr* expression) { on_expression(host, expression); });
    }
}

} // namespace

bool is_host_set_comment(const std::string& comment) {
    return comment.starts_with(std::string(counter_comment_version) + " ");
}

std::string host_counter_name(const std::string& set) {
    // A part of a large set (NAME_hosts_v4_p3) reports under the whole one's counter.
    std::string_view name = set;
    const std::size_t part = name.rfind("_p");
    if (part != std::string_view::npos && part + 2 < name.size() &&
        name.find_first_not_of("0123456789", part + 2) == std::string_view::npos) {
        name = name.substr(0, part);
    }
    for (const std::string_view suffix : {"_hosts_v4", "_hosts_v6", "_hosts_mac"}) {
        if (name.ends_with(suffix)) {
            return std::string(name.substr(0, name.size() - suffix.size()));
        }
    }
    return set;
}

void dump_elements(NftNetlink& netlink, const std::string& table, const std::string& set,
                   bool reset, const std::function<void()>& restart,
                   const std::function<void(const std::string&, const nlattr*)>& on_expression) {
    static const auto expected =
        attribute_types(NFTA_SET_ELEM_LIST_MAX, {{NFTA_SET_ELEM_LIST_ELEMENTS, MNL_TYPE_NESTED}});
    const auto add = [&](nlmsghdr* request) {
        mnl_attr_put_strz(request, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
        mnl_attr_put_strz(request, NFTA_SET_ELEM_LIST_SET, set.c_str());
    };
    const auto on_reply = [&](const nlmsghdr* reply) {
        const NftAttributes list(reply, expected);
        if (const nlattr* elements = list.raw(NFTA_SET_ELEM_LIST_ELEMENTS)) {
            each_nested(elements,
                        [&](const nlattr* element) { read_element(element, on_expression); });
        }
    };
    // As for named counters: a plain read that raced with a change is taken again; a reset
    // dump is kept, since every value it returned was zeroed.
    const std::uint16_t message =
        reset ? msg_getsetelem_reset : static_cast<std::uint16_t>(NFT_MSG_GETSETELEM);
    for (int attempt = 0;; ++attempt) {
        restart();
        if (netlink.dump(message, NFPROTO_INET, add, on_reply) || reset || attempt == 10) {
            break;
        }
    }
}

bool read_element_quota(const nlattr* expression, std::uint64_t& bytes, std::uint64_t& consumed) {
    return read_quota(expression, [&](std::uint64_t size, std::uint64_t used) {
        bytes = size;
        consumed = used;
    });
}

std::vector<KernelHostSet> dump_host_counters(NftNetlink& netlink, const std::string& table,
                                              bool reset) {
    std::vector<KernelHostSet> sets;
    for (const CommentedSet& set : commented_sets(netlink, table, is_host_set_comment)) {
        auto& hosts = sets.emplace_back(KernelHostSet{set.name, set.comment, {}}).hosts;
        dump_elements(
            netlink, table, set.name, reset, [&] { hosts.clear(); },
            [&](const std::string& host, const nlattr* expression) {
                KernelHostCounter counter{host, 0, 0};
                if (read_counter(expression, counter)) {
                    hosts.push_back(std::move(counter));
                }
            });
    }
    return sets;
}

} // namespace acctc::runtime
