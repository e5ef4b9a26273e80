// A netfilter netlink socket (libmnl) for nf_tables requests and dumps that libnftables would
// make slow: listing thousands of counters, or learning what a table holds.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <libmnl/libmnl.h>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctc::runtime {

class NftNetlink {
  public:
    using AddAttributes = std::function<void(nlmsghdr*)>;
    using OnMessage = std::function<void(const nlmsghdr*)>;

    // Opens the socket in the calling thread's current network namespace.
    NftNetlink();

    // Dumps every object of one kind (NFT_MSG_GET*): on_message sees each reply. Returns false
    // when the kernel flagged the dump as interrupted by a concurrent ruleset change.
    bool dump(std::uint16_t message, std::uint8_t family, const AddAttributes& add,
              const OnMessage& on_message);
    // As dump(), but a refusal is returned (a positive errno; 0 once the dump is complete)
    // instead of thrown, for requests an older kernel does not know (EINVAL, EOPNOTSUPP).
    // Interruption by a concurrent change is not reported.
    int try_dump(std::uint16_t message, std::uint8_t family, const AddAttributes& add,
                 const OnMessage& on_message);
    // One request that the kernel answers and acknowledges; returns 0 or a positive errno.
    int request(std::uint16_t message, std::uint8_t family, const AddAttributes& add,
                const OnMessage& on_message);

    using AddItem = std::function<void(std::size_t item, nlmsghdr*)>;
    using OnItemReply = std::function<void(std::size_t item, const nlmsghdr*)>;
    using OnItemError = std::function<void(std::size_t item, int error)>;
    // One request per item (0..count-1), many to a datagram, each answered by exactly one reply
    // or one error (a positive errno). Costs linear time in count, where a dump restarts the
    // kernel's walk for every reply datagram it fills.
    void pipeline(std::uint16_t message, std::uint8_t family, std::size_t count, const AddItem& add,
                  const OnItemReply& on_reply, const OnItemError& on_error);

    // Writes message `item` of a transaction at buffer (header with this sequence number too).
    using BuildItem =
        std::function<nlmsghdr*(std::size_t item, char* buffer, std::uint32_t sequence)>;
    // One nf_tables transaction of count messages (items 0..count-1) between a batch begin and
    // end, in one datagram: the kernel commits all of it or nothing. Returns the refusals as
    // (item, positive errno); an error of the batch as a whole has item == count. Empty: the
    // kernel committed it.
    std::vector<std::pair<std::size_t, int>> transaction(std::size_t count, const BuildItem& build);

  private:
    struct Close {
        void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
    };
    // Sends and reads replies until the kernel is done; errno or 0, interrupted set on DUMP_INTR.
    int exchange(std::uint16_t message, std::uint16_t flags, std::uint8_t family,
                 const AddAttributes& add, const OnMessage& on_message, bool& interrupted);
    // Bytes of the next datagram, now in buffer_ (retried on EINTR; throws on other errors).
    int receive();
    // Every datagram queued (at least one, waiting for it), each in its own slot of batch_;
    // returns how many. One system call for up to a pipeline window of replies, where
    // receive() costs one per reply.
    std::size_t receive_batch();
    std::span<const char> batch_datagram(std::size_t index) const;
    // The positive errno an NLMSG_ERROR or NLMSG_DONE message carries; 0 for success.
    static int error_of(const nlmsghdr* reply);

    std::unique_ptr<mnl_socket, Close> socket_;
    unsigned port_id_ = 0;
    std::uint32_t sequence_ = 0;
    std::vector<char> buffer_;
    std::vector<char> batch_;
    std::vector<std::size_t> batch_lengths_;
};

// The expected type of every attribute of one kind of message or nest, indexed by attribute type
// up to max: those listed, MNL_TYPE_UNSPEC (not checked) for the rest. NftAttributes' argument.
std::vector<mnl_attr_data_type>
attribute_types(std::uint16_t max,
                std::initializer_list<std::pair<std::uint16_t, mnl_attr_data_type>> types);

// The names of the family's tables that start with `prefix`, sorted.
std::vector<std::string> table_names(NftNetlink& netlink, std::uint8_t family,
                                     std::string_view prefix);

// Attributes of one nf_tables message, indexed by type, validated against their expected types.
class NftAttributes {
  public:
    // expected[type] is the MNL_TYPE_* each attribute must have (MNL_TYPE_UNSPEC: unchecked).
    NftAttributes(const nlmsghdr* message, const std::vector<mnl_attr_data_type>& expected);
    NftAttributes(const nlattr* nest, const std::vector<mnl_attr_data_type>& expected);

    bool has(std::uint16_t type) const { return type < size_ && table_[type] != nullptr; }
    std::string string(std::uint16_t type) const;
    // The same without a copy, for a comparison made once per element of a large dump.
    std::string_view text(std::uint16_t type) const;
    std::uint32_t u32(std::uint16_t type) const; // host order (nf_tables sends big endian)
    std::uint64_t u64(std::uint16_t type) const; // host order
    const nlattr* raw(std::uint16_t type) const { return has(type) ? table_[type] : nullptr; }

  private:
    // Validated during construction only: the expected types are not kept (a copy per message
    // cost an allocation per host of a 65,536-host read).
    void store_all(const char* begin, const char* end,
                   const std::vector<mnl_attr_data_type>& expected);
    // In place, not on the heap: a read of 65,536 hosts builds four tables per host. Large
    // enough for every NFTA_*_MAX of linux/netfilter/nf_tables.h (NFTA_SET_MAX is the largest).
    static constexpr std::size_t capacity = 40;
    static std::size_t checked_size(const std::vector<mnl_attr_data_type>& expected);
    // Only the first size_ are set (to nullptr, then to what the message has): zeroing all of
    // them was most of the cost of a table for the small nests of a set element.
    std::array<const nlattr*, capacity> table_;
    std::size_t size_ = 0;
};

// libmnl's mnl_attr_ok, mnl_attr_next, mnl_attr_get_payload(_len) inline: a read of 100,000
// set elements walks ~800,000 attributes, and a call into libmnl for each step of each was a
// tenth of its user time.
namespace attribute_walk {

inline const char* payload(const nlattr* attribute) {
    return reinterpret_cast<const char*>(attribute) + MNL_ATTR_HDRLEN;
}
inline std::size_t payload_size(const nlattr* attribute) {
    return attribute->nla_len - MNL_ATTR_HDRLEN;
}
// Whether an attribute starts at `at` and fits before `end`.
inline bool fits(const char* at, const char* end) {
    const auto left = end - at;
    if (left < static_cast<std::ptrdiff_t>(sizeof(nlattr))) {
        return false;
    }
    const auto* attribute = reinterpret_cast<const nlattr*>(at);
    return attribute->nla_len >= sizeof(nlattr) && attribute->nla_len <= left;
}
inline const char* next(const char* at) {
    return at + MNL_ALIGN(reinterpret_cast<const nlattr*>(at)->nla_len);
}

} // namespace attribute_walk

// Calls visit for each attribute directly inside a nest (libmnl's for_each macros assign void*
// and so do not compile as C++).
template <typename Visit>
void each_nested(const nlattr* nest, Visit visit) {
    const char* at = attribute_walk::payload(nest);
    const char* end = at + attribute_walk::payload_size(nest);
    for (; attribute_walk::fits(at, end); at = attribute_walk::next(at)) {
        visit(reinterpret_cast<const nlattr*>(at));
    }
}

// Fills in the header and nfgenmsg every nfnetlink request starts with, for `subsystem`
// (NFNL_SUBSYS_NFTABLES, NFNL_SUBSYS_ACCT, ...).
nlmsghdr* put_nfnetlink_header(char* buffer, std::uint8_t subsystem, std::uint16_t message,
                               std::uint16_t flags, std::uint8_t family, std::uint32_t sequence);

// The same for nf_tables requests.
nlmsghdr* put_nft_header(char* buffer, std::uint16_t message, std::uint16_t flags,
                         std::uint8_t family, std::uint32_t sequence);

} // namespace acctc::runtime
