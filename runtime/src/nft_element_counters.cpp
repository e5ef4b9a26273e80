#include "nft_element_counters.hpp"

#include "acctc/counter_labels.hpp"
#include "nft_host_counters.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <memory>
#include <string_view>

namespace acctc::runtime {
namespace {

// Linux 6.5's NFT_MSG_GETSETELEM_RESET, newer than this system's headers.
constexpr std::uint16_t msg_getsetelem_reset = 33;
// libnftnl's NFTNL_UDATA_SET_ELEM_COMMENT.
constexpr unsigned char element_userdata_comment = 0;

// Calls on_element(comment, key, packets, bytes) for every element of one set that has a counter.
template <typename OnElement>
bool dump_set(NftNetlink& netlink, const std::string& table, const std::string& set, bool reset,
              OnElement on_element) {
    static const auto list_expected =
        attribute_types(NFTA_SET_ELEM_LIST_MAX, {{NFTA_SET_ELEM_LIST_ELEMENTS, MNL_TYPE_NESTED}});
    static const auto element_expected =
        attribute_types(NFTA_SET_ELEM_MAX, {{NFTA_SET_ELEM_KEY, MNL_TYPE_NESTED},
                                            {NFTA_SET_ELEM_EXPR, MNL_TYPE_NESTED},
                                            {NFTA_SET_ELEM_EXPRESSIONS, MNL_TYPE_NESTED},
                                            {NFTA_SET_ELEM_USERDATA, MNL_TYPE_BINARY}});
    static const auto expression_expected = attribute_types(
        NFTA_EXPR_MAX, {{NFTA_EXPR_NAME, MNL_TYPE_NUL_STRING}, {NFTA_EXPR_DATA, MNL_TYPE_NESTED}});
    static const auto counter_expected =
        attribute_types(NFTA_COUNTER_MAX,
                        {{NFTA_COUNTER_BYTES, MNL_TYPE_U64}, {NFTA_COUNTER_PACKETS, MNL_TYPE_U64}});
    static const auto data_expected =
        attribute_types(NFTA_DATA_MAX, {{NFTA_DATA_VALUE, MNL_TYPE_BINARY}});
    const auto counter_of = [&](const nlattr* expression, std::uint64_t& packets,
                                std::uint64_t& bytes) {
        const NftAttributes attributes(expression, expression_expected);
        if (attributes.text(NFTA_EXPR_NAME) != "counter" || !attributes.has(NFTA_EXPR_DATA)) {
            return false;
        }
        const NftAttributes values(attributes.raw(NFTA_EXPR_DATA), counter_expected);
        packets = values.u64(NFTA_COUNTER_PACKETS);
        bytes = values.u64(NFTA_COUNTER_BYTES);
        return true;
    };
    const auto on_reply = [&](const nlmsghdr* reply) {
        const NftAttributes list(reply, list_expected);
        const nlattr* elements = list.raw(NFTA_SET_ELEM_LIST_ELEMENTS);
        if (elements == nullptr) {
            return;
        }
        each_nested(elements, [&](const nlattr* element) {
            const NftAttributes attributes(element, element_expected);
            const nlattr* userdata = attributes.raw(NFTA_SET_ELEM_USERDATA);
            if (userdata == nullptr) {
                return;
            }
            std::uint64_t packets = 0;
            std::uint64_t bytes = 0;
            bool counted = false;
            if (const nlattr* one = attributes.raw(NFTA_SET_ELEM_EXPR)) {
                counted = counter_of(one, packets, bytes);
            } else if (const nlattr* all = attributes.raw(NFTA_SET_ELEM_EXPRESSIONS)) {
                each_nested(all, [&](const nlattr* expression) {
                    counted = counter_of(expression, packets, bytes) || counted;
                });
            }
            if (!counted) {
                return;
            }
            const auto* data =
                reinterpret_cast<const unsigned char*>(attribute_walk::payload(userdata));
            // The comment record in place: no copy per element.
            const std::size_t length = attribute_walk::payload_size(userdata);
            for (std::size_t at = 0; at + 2 <= length;) {
                const std::size_t size = data[at + 1];
                if (at + 2 + size > length) {
                    break;
                }
                if (data[at] == element_userdata_comment) {
                    std::string_view comment(reinterpret_cast<const char*>(data + at + 2), size);
                    std::string_view key;
                    if (const nlattr* nest = attributes.raw(NFTA_SET_ELEM_KEY)) {
                        const NftAttributes value(nest, data_expected);
                        if (const nlattr* bytes_of_key = value.raw(NFTA_DATA_VALUE)) {
                            key = {attribute_walk::payload(bytes_of_key),
                                   attribute_walk::payload_size(bytes_of_key)};
                        }
                    }
                    on_element(comment.substr(0, comment.find('\0')), key, packets, bytes);
                    break;
                }
                at += 2 + size;
            }
        });
    };
    const auto add = [&](nlmsghdr* request) {
        mnl_attr_put_strz(request, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
        mnl_attr_put_strz(request, NFTA_SET_ELEM_LIST_SET, set.c_str());
    };
    return netlink.dump(reset ? msg_getsetelem_reset
                              : static_cast<std::uint16_t>(NFT_MSG_GETSETELEM),
                        NFPROTO_INET, add, on_reply);
}

} // namespace

bool dump_counting_set(NftNetlink& netlink, const std::string& table, const std::string& set,
                       bool reset, const OnCountingElement& on_element) {
    return dump_set(netlink, table, set, reset, on_element);
}

// A single field at its own width, concatenated ones each padded to 4 bytes.
std::string key_text(std::string_view key, const std::vector<std::string>& types) {
    std::string text;
    std::size_t at = 0;
    for (const auto& type : types) {
        const std::size_t width = type == "inet_service"                                  ? 2
                                  : type == "ipv6_addr"                                   ? 16
                                  : type == "ipv4_addr" || type == "uid" || type == "gid" ? 4
                                                                                          : 1;
        if (at + width > key.size()) {
            return {};
        }
        const auto* bytes = reinterpret_cast<const unsigned char*>(key.data() + at);
        text += text.empty() ? "" : " . ";
        if (type == "ipv4_addr" || type == "ipv6_addr") {
            char address[INET6_ADDRSTRLEN] = {};
            inet_ntop(width == 4 ? AF_INET : AF_INET6, bytes, address, sizeof address);
            text += address;
        } else if (width == 4) { // uid, gid: the CPU's order
            std::uint32_t value = 0;
            std::memcpy(&value, bytes, sizeof value);
            text += std::to_string(value);
        } else if (width == 2) { // a port: network order
            text += std::to_string((unsigned{bytes[0]} << 8) | bytes[1]);
        } else {
            text += std::to_string(unsigned{bytes[0]});
        }
        at += types.size() == 1 ? width : (width + 3) / 4 * 4;
    }
    return text;
}

bool split_element_comment(std::string_view comment, std::string_view& name,
                           std::string_view& counter_comment) {
    const std::size_t space = comment.find(' ');
    if (space == 0 || space == std::string_view::npos) {
        return false;
    }
    name = comment.substr(0, space);
    counter_comment = comment.substr(space + 1);
    return true;
}

namespace {

// The first 16 bytes of a name as two big-endian numbers (zero-padded): comparing them orders
// names as their bytes do, without a memcmp call per comparison (100,000 names share prefixes).
std::pair<std::uint64_t, std::uint64_t> order_key(std::string_view name) {
    std::array<unsigned char, 16> bytes{};
    std::memcpy(bytes.data(), name.data(), std::min(name.size(), bytes.size()));
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        high = high << 8 | bytes[i];
        low = low << 8 | bytes[i + 8];
    }
    return {high, low};
}

} // namespace

void ElementCounterSums::add(std::string_view comment, std::uint64_t packets, std::uint64_t bytes) {
    std::string_view name;
    std::string_view counter_comment;
    if (!split_element_comment(comment, name, counter_comment)) {
        return;
    }
    if (used_ + comment.size() > capacity_) {
        capacity_ = std::max(chunk_bytes, comment.size());
        chunks_.push_back(std::make_unique_for_overwrite<char[]>(capacity_));
        used_ = 0;
    }
    char* at = chunks_.back().get() + used_;
    std::memcpy(at, comment.data(), comment.size());
    used_ += comment.size();
    const auto [high, low] = order_key(name);
    records_.push_back(
        {high,
         low,
         {{at, name.size()}, {at + name.size() + 1, counter_comment.size()}, packets, bytes}});
}

void ElementCounterSums::undo(const Mark& to) {
    records_.resize(to.records);
    if (chunks_.size() != to.chunks) {
        chunks_.resize(to.chunks);
        capacity_ = to.chunks == 0 ? 0 : std::max(chunk_bytes, to.used);
    }
    used_ = to.used;
}

bool ElementCounterSums::same_elements(const ElementCounterSums& last) const {
    if (records_.size() != last.records_.size() || last.order_.size() != records_.size()) {
        return false;
    }
    // Both in the order the kernel sent them: two streams, no cache miss per element. A
    // record's name, a space and its comment are one run of text.
    for (std::size_t i = 0; i < records_.size(); ++i) {
        const Sum& now = records_[i].sum;
        const Sum& then = last.records_[i].sum;
        if (now.name.size() != then.name.size() || now.comment.size() != then.comment.size() ||
            std::memcmp(now.name.data(), then.name.data(),
                        now.name.size() + 1 + now.comment.size()) != 0) {
            return false;
        }
    }
    return true;
}

std::vector<ElementCounterSums::Sum> ElementCounterSums::sums(ElementCounterSums* last) {
    unchanged_ = last != nullptr && same_elements(*last);
    if (unchanged_) {
        order_ = std::move(last->order_);
    } else {
        // Sorted as indices with their keys (16 bytes each) rather than as records: the names'
        // text is read only where two keys tie.
        order_.clear();
        order_.reserve(records_.size());
        for (std::size_t i = 0; i < records_.size(); ++i) {
            order_.push_back({records_[i].high, records_[i].low, static_cast<std::uint32_t>(i)});
        }
        std::sort(order_.begin(), order_.end(), [&](const Order& a, const Order& b) {
            if (a.high != b.high) {
                return a.high < b.high;
            }
            if (a.low != b.low) {
                return a.low < b.low;
            }
            return records_[a.record].sum.name < records_[b.record].sum.name;
        });
    }
    const std::vector<Order>& order = order_;
    std::vector<Sum> out;
    out.reserve(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        const Sum& sum = records_[order[i].record].sum;
        // The same name as the one before: the same keys, and for a name of at most 16 bytes
        // (zero-padded in its keys, and no name holds a zero) the same length.
        const bool same = i != 0 && order[i].high == order[i - 1].high &&
                          order[i].low == order[i - 1].low &&
                          (sum.name.size() <= 16 ? sum.name.size() == out.back().name.size()
                                                 : sum.name == out.back().name);
        if (!same) {
            out.push_back(sum);
        } else {
            out.back().packets += sum.packets;
            out.back().bytes += sum.bytes;
        }
    }
    return out;
}

ElementCounterSums read_element_counters(NftNetlink& netlink, const std::string& table, bool reset,
                                         std::size_t expected) {
    ElementCounterSums elements;
    elements.reserve(expected);
    const auto counting = [](std::string_view comment) {
        return comment.starts_with(element_set_comment);
    };
    const auto add = [&](std::string_view comment, std::string_view, std::uint64_t packets,
                         std::uint64_t bytes) { elements.add(comment, packets, bytes); };
    for (const CommentedSet& set : commented_sets(netlink, table, counting)) {
        // A plain read that raced with a ruleset change is taken again, set by set. Every
        // value a reset dump returned was zeroed: kept even if a change interrupted it.
        const auto before = elements.mark();
        for (int attempt = 0;; ++attempt) {
            if (dump_set(netlink, table, set.name, reset, add) || reset || attempt == 10) {
                break;
            }
            elements.undo(before);
        }
    }
    return elements;
}

} // namespace acctc::runtime
