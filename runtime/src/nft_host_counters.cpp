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
                                         const std::function<bool(std::string_view)>& wanted) {
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
            if ((!table.empty() && set.text(NFTA_SET_TABLE) != table) || userdata == nullptr) {
                return;
            }
            // Copied only when wanted: every read lists all of a table's sets (1,024 counting
            // sets for 100,000 classes) for each kind of set it reads.
            const std::string_view comment =
                userdata_comment(static_cast<const unsigned char*>(mnl_attr_get_payload(userdata)),
                                 mnl_attr_get_payload_len(userdata), set_userdata_comment);
            if (wanted(comment)) {
                CommentedSet out{set.string(NFTA_SET_TABLE), set.string(NFTA_SET_NAME),
                                 std::string(comment), std::nullopt};
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

// What a set dump says of one element: its key's value (NFTA_DATA_VALUE) and its expressions,
// one (NFTA_SET_ELEM_EXPR) or a list (NFTA_SET_ELEM_EXPRESSIONS).
struct ElementAttributes {
    const nlattr* key = nullptr;
    const nlattr* expression = nullptr;
    const nlattr* expressions = nullptr;

    template <typename Visit>
    void each_expression(Visit visit) const {
        if (expression != nullptr) {
            visit(expression);
        } else if (expressions != nullptr) {
            each_nested(expressions, visit);
        }
    }
};

// Each element of one GETSETELEM reply that has a key.
template <typename OnElement>
void each_element(const nlmsghdr* reply, OnElement on_element) {
    static const auto list =
        attribute_types(NFTA_SET_ELEM_LIST_MAX, {{NFTA_SET_ELEM_LIST_ELEMENTS, MNL_TYPE_NESTED}});
    static const auto expected =
        attribute_types(NFTA_SET_ELEM_MAX, {{NFTA_SET_ELEM_KEY, MNL_TYPE_NESTED},
                                            {NFTA_SET_ELEM_EXPR, MNL_TYPE_NESTED},
                                            {NFTA_SET_ELEM_EXPRESSIONS, MNL_TYPE_NESTED}});
    static const auto data = attribute_types(NFTA_DATA_MAX, {{NFTA_DATA_VALUE, MNL_TYPE_BINARY}});
    const nlattr* elements = NftAttributes(reply, list).raw(NFTA_SET_ELEM_LIST_ELEMENTS);
    if (elements == nullptr) {
        return;
    }
    each_nested(elements, [&](const nlattr* element) {
        const NftAttributes attributes(element, expected);
        if (!attributes.has(NFTA_SET_ELEM_KEY)) {
            return;
        }
        const NftAttributes key(attributes.raw(NFTA_SET_ELEM_KEY), data);
        if (!key.has(NFTA_DATA_VALUE)) {
            return;
        }
        on_element(ElementAttributes{key.raw(NFTA_DATA_VALUE), attributes.raw(NFTA_SET_ELEM_EXPR),
                                     attributes.raw(NFTA_SET_ELEM_EXPRESSIONS)});
    });
}

// The element's key bytes: false for a key of no address's size.
bool read_key(const nlattr* value, HostElement& into) {
    const auto size = mnl_attr_get_payload_len(value);
    if (size != 4 && size != 6 && size != 16) {
        return false;
    }
    std::memcpy(into.key.data(), mnl_attr_get_payload(value), size);
    into.key_size = static_cast<std::uint8_t>(size);
    return true;
}

// The counter of one element's expression, when it is a counter.
bool read_counter(const nlattr* expression, HostElement& into) {
    static const auto expected = attribute_types(
        NFTA_EXPR_MAX, {{NFTA_EXPR_NAME, MNL_TYPE_NUL_STRING}, {NFTA_EXPR_DATA, MNL_TYPE_NESTED}});
    static const auto counter =
        attribute_types(NFTA_COUNTER_MAX,
                        {{NFTA_COUNTER_BYTES, MNL_TYPE_U64}, {NFTA_COUNTER_PACKETS, MNL_TYPE_U64}});
    const NftAttributes attributes(expression, expected);
    if (attributes.text(NFTA_EXPR_NAME) != "counter" || !attributes.has(NFTA_EXPR_DATA)) {
        return false;
    }
    const NftAttributes values(attributes.raw(NFTA_EXPR_DATA), counter);
    into.packets = values.u64(NFTA_COUNTER_PACKETS);
    into.bytes = values.u64(NFTA_COUNTER_BYTES);
    return true;
}

// 0-255 in decimal at out; returns the end.
char* put_decimal(char* out, unsigned value) {
    if (value >= 100) {
        *out++ = static_cast<char>('0' + value / 100);
    }
    if (value >= 10) {
        *out++ = static_cast<char>('0' + value / 10 % 10);
    }
    *out++ = static_cast<char>('0' + value % 10);
    return out;
}

} // namespace

bool is_host_set_comment(std::string_view comment) {
    return comment.starts_with(counter_comment_version) &&
           comment.substr(counter_comment_version.size()).starts_with(' ');
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

HostText host_text(const HostElement& element) {
    HostText out;
    char* text = out.text.data();
    const unsigned char* key = element.key.data();
    char* end = text;
    if (element.key_size == 4) {
        // By hand: inet_ntop formats IPv4 through sprintf, which cost more than the rest of it.
        for (int i = 0; i < 4; ++i) {
            if (i > 0) {
                *end++ = '.';
            }
            end = put_decimal(end, key[i]);
        }
    } else if (element.key_size == 6) { // ether_addr (split host mac), as nft prints it
        static constexpr char hex[] = "0123456789abcdef";
        for (int i = 0; i < 6; ++i) {
            if (i > 0) {
                *end++ = ':';
            }
            *end++ = hex[key[i] >> 4];
            *end++ = hex[key[i] & 15];
        }
    } else if (element.key_size == 16 &&
               inet_ntop(AF_INET6, key, text, static_cast<socklen_t>(out.text.size())) != nullptr) {
        end = text + std::strlen(text);
    }
    out.size = static_cast<std::uint8_t>(end - text);
    return out;
}

void read_host_elements(const nlmsghdr* reply, std::vector<HostElement>& into) {
    each_element(reply, [&](const ElementAttributes& element) {
        HostElement host;
        if (!read_key(element.key, host)) {
            return;
        }
        element.each_expression([&](const nlattr* expression) {
            if (read_counter(expression, host)) {
                into.push_back(host);
            }
        });
    });
}

namespace {

// The replies of a dump of one set's elements. As for named counters: a plain read that raced
// with a change is taken again (restart runs before each attempt); a reset dump is kept, since
// every value it returned was zeroed.
void dump_set_elements(NftNetlink& netlink, const std::string& table, const std::string& set,
                       bool reset, const std::function<void()>& restart,
                       const NftNetlink::OnMessage& on_reply) {
    const auto add = [&](nlmsghdr* request) {
        mnl_attr_put_strz(request, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
        mnl_attr_put_strz(request, NFTA_SET_ELEM_LIST_SET, set.c_str());
    };
    const std::uint16_t message =
        reset ? msg_getsetelem_reset : static_cast<std::uint16_t>(NFT_MSG_GETSETELEM);
    for (int attempt = 0;; ++attempt) {
        restart();
        if (netlink.dump(message, NFPROTO_INET, add, on_reply) || reset || attempt == 10) {
            break;
        }
    }
}

} // namespace

void dump_elements(NftNetlink& netlink, const std::string& table, const std::string& set,
                   bool reset, const std::function<void()>& restart,
                   const std::function<void(const std::string&, const nlattr*)>& on_expression) {
    dump_set_elements(netlink, table, set, reset, restart, [&](const nlmsghdr* reply) {
        each_element(reply, [&](const ElementAttributes& element) {
            HostElement key;
            if (!read_key(element.key, key)) {
                return;
            }
            const std::string host(host_text(key).view());
            if (!host.empty()) {
                element.each_expression(
                    [&](const nlattr* expression) { on_expression(host, expression); });
            }
        });
    });
}

bool read_element_quota(const nlattr* expression, std::uint64_t& bytes, std::uint64_t& consumed) {
    return read_quota(expression, [&](std::uint64_t size, std::uint64_t used) {
        bytes = size;
        consumed = used;
    });
}

std::vector<KernelHostSet> dump_host_counters(NftNetlink& netlink, const std::string& table,
                                              bool reset,
                                              const std::function<bool(const std::string&)>& only) {
    std::vector<KernelHostSet> sets;
    for (const CommentedSet& set : commented_sets(netlink, table, is_host_set_comment)) {
        if (only && !only(set.name)) {
            continue;
        }
        auto& hosts = sets.emplace_back(KernelHostSet{set.name, set.comment, {}}).hosts;
        // The elements as an array per set: no text, no heap allocation per host.
        dump_set_elements(
            netlink, table, set.name, reset, [&] { hosts.clear(); },
            [&](const nlmsghdr* reply) { read_host_elements(reply, hosts); });
    }
    return sets;
}

} // namespace acctc::runtime
