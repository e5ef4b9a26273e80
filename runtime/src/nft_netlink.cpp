#include "nft_netlink.hpp"

#include "acctc/runtime/errors.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdexcept>
#include <sys/socket.h>

namespace acctc::runtime {
namespace {

// Large enough that the kernel packs many counters into each dump datagram.
constexpr std::size_t receive_buffer_size = 1 << 17;

// Requests in flight at once in a pipeline. The kernel answers each with its own buffer of up
// to a page or two, all queued before we read the first, so the socket's receive buffer is
// raised to hold a whole window.
constexpr std::size_t pipeline_window = 256;
constexpr int pipeline_socket_buffer = 4 << 20;
// An nf_tables request with a table and an object name (each at most 256 bytes) and a type.
constexpr std::size_t max_request_size = 1024;
// A pipeline reply is one message in a buffer of the kernel's NLMSG_GOODSIZE (a page less the
// skb overhead); an error echoes the request. Datagrams received at once: a window's worth.
constexpr std::size_t batch_slot_size = 8192;
constexpr std::size_t batch_slots = 64;
// A message of a transaction: a stateful object with its table and name (at most 256 bytes each),
// its comment (at most 255) and its parameters; or up to 48 set elements (nft_element_swap.hpp).
constexpr std::size_t max_transaction_message = 32768;

} // namespace

nlmsghdr* put_nfnetlink_header(char* buffer, std::uint8_t subsystem, std::uint16_t message,
                               std::uint16_t flags, std::uint8_t family, std::uint32_t sequence) {
    nlmsghdr* header = mnl_nlmsg_put_header(buffer);
    header->nlmsg_type = static_cast<std::uint16_t>((subsystem << 8) | message);
    header->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    header->nlmsg_seq = sequence;
    auto* generic = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
    generic->nfgen_family = family;
    generic->version = NFNETLINK_V0;
    generic->res_id = 0;
    return header;
}

nlmsghdr* put_nft_header(char* buffer, std::uint16_t message, std::uint16_t flags,
                         std::uint8_t family, std::uint32_t sequence) {
    return put_nfnetlink_header(buffer, NFNL_SUBSYS_NFTABLES, message, flags, family, sequence);
}

NftNetlink::NftNetlink() : socket_(mnl_socket_open(NETLINK_NETFILTER)) {
    if (!socket_) {
        throw_system_error("cannot open a netfilter netlink socket", errno);
    }
    if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw_system_error("cannot bind the netfilter netlink socket", errno);
    }
    port_id_ = mnl_socket_get_portid(socket_.get());
    buffer_.resize(receive_buffer_size);
    // SO_RCVBUFFORCE passes the rmem_max limit with CAP_NET_ADMIN, which changing nf_tables
    // needs anyway; without it, the ordinary limit applies and pipelines wait for more replies.
    const int fd = mnl_socket_get_fd(socket_.get());
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &pipeline_socket_buffer,
                     sizeof pipeline_socket_buffer) != 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &pipeline_socket_buffer,
                     sizeof pipeline_socket_buffer);
    }
}

bool NftNetlink::dump(std::uint16_t message, std::uint8_t family, const AddAttributes& add,
                      const OnMessage& on_message) {
    bool interrupted = false;
    const int error = exchange(message, NLM_F_DUMP, family, add, on_message, interrupted);
    if (error != 0) {
        throw_system_error("nf_tables dump failed", error);
    }
    return !interrupted;
}

int NftNetlink::try_dump(std::uint16_t message, std::uint8_t family, const AddAttributes& add,
                         const OnMessage& on_message) {
    bool interrupted = false;
    return exchange(message, NLM_F_DUMP, family, add, on_message, interrupted);
}

int NftNetlink::request(std::uint16_t message, std::uint8_t family, const AddAttributes& add,
                        const OnMessage& on_message) {
    bool interrupted = false;
    return exchange(message, NLM_F_ACK, family, add, on_message, interrupted);
}

void NftNetlink::pipeline(std::uint16_t message, std::uint8_t family, std::size_t count,
                          const AddItem& add, const OnItemReply& on_reply,
                          const OnItemError& on_error) {
    std::vector<char> requests(pipeline_window * max_request_size);
    for (std::size_t first = 0; first < count; first += pipeline_window) {
        const std::size_t in_flight = std::min(pipeline_window, count - first);
        const std::uint32_t first_sequence = sequence_ + 1;
        sequence_ += static_cast<std::uint32_t>(in_flight);
        std::size_t length = 0;
        for (std::size_t i = 0; i < in_flight; ++i) {
            nlmsghdr* request = put_nft_header(requests.data() + length, message, 0, family,
                                               first_sequence + static_cast<std::uint32_t>(i));
            add(first + i, request);
            if (request->nlmsg_len > max_request_size) {
                throw std::logic_error("nf_tables pipeline request larger than its slot");
            }
            length += NLMSG_ALIGN(request->nlmsg_len);
        }
        if (mnl_socket_sendto(socket_.get(), requests.data(), length) < 0) {
            throw_system_error("cannot send to nf_tables", errno);
        }
        std::size_t answered = 0;
        while (answered < in_flight) {
            // ENOBUFS from receive_batch() means replies were dropped: it throws rather than
            // wait.
            const std::size_t datagrams = receive_batch();
            for (std::size_t d = 0; d < datagrams; ++d) {
                const auto datagram = batch_datagram(d);
                int left = static_cast<int>(datagram.size());
                for (auto* reply = reinterpret_cast<const nlmsghdr*>(datagram.data());
                     mnl_nlmsg_ok(reply, left); reply = mnl_nlmsg_next(reply, &left)) {
                    const std::uint32_t offset = reply->nlmsg_seq - first_sequence;
                    if (!mnl_nlmsg_portid_ok(reply, port_id_) || offset >= in_flight) {
                        continue;
                    }
                    if (reply->nlmsg_type == NLMSG_ERROR) {
                        const int error = error_of(reply);
                        if (error == 0) {
                            continue; // an acknowledgement we did not ask for
                        }
                        on_error(first + offset, error);
                    } else if (reply->nlmsg_type >= NLMSG_MIN_TYPE) {
                        on_reply(first + offset, reply);
                    } else {
                        continue;
                    }
                    ++answered;
                }
            }
        }
    }
}

std::vector<std::pair<std::size_t, int>> NftNetlink::transaction(std::size_t count,
                                                                 const BuildItem& build) {
    const std::uint32_t begin_sequence = ++sequence_;
    const std::uint32_t first_sequence = begin_sequence + 1;
    sequence_ += static_cast<std::uint32_t>(count) + 1; // the messages, then the end
    std::vector<char> batch(max_request_size);
    std::size_t length = 0;
    const auto reserve = [&](std::size_t size) {
        if (batch.size() < length + size) {
            batch.resize(std::max(batch.size() * 2, length + size));
        }
    };
    const auto put_batch_header = [&](std::uint16_t type, std::uint32_t sequence) {
        reserve(max_request_size);
        nlmsghdr* header = put_nft_header(batch.data() + length, 0, 0, AF_UNSPEC, sequence);
        header->nlmsg_type = type;
        static_cast<nfgenmsg*>(mnl_nlmsg_get_payload(header))->res_id =
            htobe16(NFNL_SUBSYS_NFTABLES);
        length += NLMSG_ALIGN(header->nlmsg_len);
    };
    put_batch_header(NFNL_MSG_BATCH_BEGIN, begin_sequence);
    for (std::size_t i = 0; i < count; ++i) {
        reserve(max_transaction_message);
        const nlmsghdr* message =
            build(i, batch.data() + length, first_sequence + static_cast<std::uint32_t>(i));
        if (message->nlmsg_len > max_transaction_message) {
            throw std::logic_error("nf_tables transaction message larger than its slot");
        }
        length += NLMSG_ALIGN(message->nlmsg_len);
    }
    put_batch_header(NFNL_MSG_BATCH_END, first_sequence + static_cast<std::uint32_t>(count));
    // The whole batch is one datagram (the kernel applies a batch per datagram): the send
    // buffer must hold it. SO_SNDBUFFORCE passes wmem_max with CAP_NET_ADMIN, as for receiving.
    const int fd = mnl_socket_get_fd(socket_.get());
    const int wanted = static_cast<int>(std::min<std::size_t>(length * 2, 1U << 30));
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &wanted, sizeof wanted) != 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &wanted, sizeof wanted);
    }
    if (mnl_socket_sendto(socket_.get(), batch.data(), length) < 0) {
        throw_system_error("cannot send a transaction to nf_tables", errno);
    }
    // The kernel reports only refusals (no message asks for an acknowledgement), so a request
    // sent after the batch marks the end: its answer comes after everything the batch caused.
    const std::uint32_t marker = ++sequence_;
    const nlmsghdr* request =
        put_nft_header(buffer_.data(), NFT_MSG_GETGEN, NLM_F_ACK, AF_UNSPEC, marker);
    if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0) {
        throw_system_error("cannot send to nf_tables", errno);
    }
    std::vector<std::pair<std::size_t, int>> refused;
    for (bool done = false; !done;) {
        int left = receive();
        for (auto* reply = reinterpret_cast<const nlmsghdr*>(buffer_.data());
             mnl_nlmsg_ok(reply, left); reply = mnl_nlmsg_next(reply, &left)) {
            if (!mnl_nlmsg_portid_ok(reply, port_id_)) {
                continue;
            }
            if (reply->nlmsg_seq == marker) {
                done = done || reply->nlmsg_type == NLMSG_ERROR;
                continue;
            }
            if (reply->nlmsg_type != NLMSG_ERROR || error_of(reply) == 0) {
                continue;
            }
            const std::uint32_t offset = reply->nlmsg_seq - first_sequence;
            refused.emplace_back(offset < count ? offset : count, error_of(reply));
        }
    }
    return refused;
}

int NftNetlink::exchange(std::uint16_t message, std::uint16_t flags, std::uint8_t family,
                         const AddAttributes& add, const OnMessage& on_message, bool& interrupted) {
    const std::uint32_t sequence = ++sequence_;
    nlmsghdr* request = put_nft_header(buffer_.data(), message, flags, family, sequence);
    add(request);
    if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0) {
        throw_system_error("cannot send to nf_tables", errno);
    }
    for (;;) {
        int left = receive();
        // Walked by hand rather than with mnl_cb_run: that stops at NLM_F_DUMP_INTR, which would
        // drop counters a reset dump has already zeroed.
        for (auto* reply = reinterpret_cast<const nlmsghdr*>(buffer_.data());
             mnl_nlmsg_ok(reply, left); reply = mnl_nlmsg_next(reply, &left)) {
            if (!mnl_nlmsg_seq_ok(reply, sequence) || !mnl_nlmsg_portid_ok(reply, port_id_)) {
                continue;
            }
            if ((reply->nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
                interrupted = true;
            }
            if (reply->nlmsg_type == NLMSG_ERROR || reply->nlmsg_type == NLMSG_DONE) {
                return error_of(reply);
            }
            if (reply->nlmsg_type >= NLMSG_MIN_TYPE) {
                on_message(reply);
            }
        }
    }
}

int NftNetlink::receive() {
    for (;;) {
        const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
        if (received >= 0) {
            return static_cast<int>(received);
        }
        if (errno != EINTR) {
            throw_system_error("cannot receive from nf_tables", errno);
        }
    }
}

std::size_t NftNetlink::receive_batch() {
    if (batch_.empty()) {
        batch_.resize(batch_slots * batch_slot_size);
        batch_lengths_.resize(batch_slots);
    }
    std::array<iovec, batch_slots> vectors{};
    std::array<sockaddr_nl, batch_slots> senders{};
    std::array<mmsghdr, batch_slots> messages{};
    for (std::size_t i = 0; i < batch_slots; ++i) {
        vectors[i] = {batch_.data() + i * batch_slot_size, batch_slot_size};
        messages[i].msg_hdr.msg_name = &senders[i];
        messages[i].msg_hdr.msg_namelen = sizeof senders[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int fd = mnl_socket_get_fd(socket_.get());
    for (;;) {
        // MSG_WAITFORONE: wait for the first datagram only, then take what is queued.
        const int received = ::recvmmsg(fd, messages.data(), batch_slots, MSG_WAITFORONE, nullptr);
        if (received < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_system_error("cannot receive from nf_tables", errno);
        }
        std::size_t kept = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(received); ++i) {
            if ((messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
                throw_system_error("cannot receive from nf_tables", EMSGSIZE);
            }
            if (senders[i].nl_pid != 0) {
                continue; // not from the kernel (mnl_socket_recvfrom refuses these too)
            }
            // Compacted to the front so that slot i holds the i-th datagram kept.
            if (kept != i) {
                std::copy_n(batch_.data() + i * batch_slot_size, messages[i].msg_len,
                            batch_.data() + kept * batch_slot_size);
            }
            batch_lengths_[kept++] = messages[i].msg_len;
        }
        if (kept > 0) {
            return kept;
        }
    }
}

std::span<const char> NftNetlink::batch_datagram(std::size_t index) const {
    return {batch_.data() + index * batch_slot_size, batch_lengths_[index]};
}

int NftNetlink::error_of(const nlmsghdr* reply) {
    if (reply->nlmsg_len < mnl_nlmsg_size(sizeof(int))) {
        return 0;
    }
    // nlmsgerr starts with the (negative) error; NLMSG_DONE carries the same int.
    return -*static_cast<const int*>(mnl_nlmsg_get_payload(reply));
}

std::vector<mnl_attr_data_type>
attribute_types(std::uint16_t max,
                std::initializer_list<std::pair<std::uint16_t, mnl_attr_data_type>> types) {
    std::vector<mnl_attr_data_type> expected(static_cast<std::size_t>(max) + 1, MNL_TYPE_UNSPEC);
    for (const auto& [type, kind] : types) {
        if (type > max) {
            throw std::logic_error("netlink attribute type beyond its kind's maximum");
        }
        expected[type] = kind;
    }
    return expected;
}

std::vector<std::string> table_names(NftNetlink& netlink, std::uint8_t family,
                                     std::string_view prefix) {
    static const auto expected =
        attribute_types(NFTA_TABLE_MAX, {{NFTA_TABLE_NAME, MNL_TYPE_NUL_STRING}});
    std::vector<std::string> tables;
    netlink.dump(
        NFT_MSG_GETTABLE, family, [](nlmsghdr*) {},
        [&](const nlmsghdr* reply) {
            std::string name = NftAttributes(reply, expected).string(NFTA_TABLE_NAME);
            if (name.starts_with(prefix)) {
                tables.push_back(std::move(name));
            }
        });
    std::sort(tables.begin(), tables.end());
    tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
    return tables;
}

std::size_t NftAttributes::checked_size(const std::vector<mnl_attr_data_type>& expected) {
    static_assert(NFTA_SET_MAX < capacity && NFTA_RULE_MAX < capacity &&
                  NFTA_CHAIN_MAX < capacity && NFTA_SET_ELEM_MAX < capacity);
    if (expected.size() > capacity) {
        throw std::logic_error("NftAttributes: more attribute types than its table holds");
    }
    return expected.size();
}

NftAttributes::NftAttributes(const nlmsghdr* message,
                             const std::vector<mnl_attr_data_type>& expected)
    : size_(checked_size(expected)) {
    const auto* begin =
        static_cast<const char*>(mnl_nlmsg_get_payload_offset(message, sizeof(nfgenmsg)));
    store_all(begin, static_cast<const char*>(mnl_nlmsg_get_payload_tail(message)), expected);
}

NftAttributes::NftAttributes(const nlattr* nest, const std::vector<mnl_attr_data_type>& expected)
    : size_(checked_size(expected)) {
    const char* begin = attribute_walk::payload(nest);
    store_all(begin, begin + attribute_walk::payload_size(nest), expected);
}

namespace {

// mnl_attr_validate inline for the types acctc reads (attribute_walk in the header says why),
// with its rules: fixed-size types exactly their size, strings not empty, NUL-terminated ones
// ending in NUL, flags empty, nests empty or at least one header.
bool valid(const nlattr* attribute, mnl_attr_data_type type) {
    const std::size_t size = attribute_walk::payload_size(attribute);
    switch (type) {
    case MNL_TYPE_UNSPEC:
    case MNL_TYPE_BINARY:
        return true;
    case MNL_TYPE_U8:
        return size == 1;
    case MNL_TYPE_U16:
        return size == 2;
    case MNL_TYPE_U32:
        return size == 4;
    case MNL_TYPE_U64:
        return size == 8;
    case MNL_TYPE_STRING:
        return size != 0;
    case MNL_TYPE_NUL_STRING:
        return size != 0 && attribute_walk::payload(attribute)[size - 1] == '\0';
    case MNL_TYPE_FLAG:
        return size == 0;
    case MNL_TYPE_NESTED:
        return size == 0 || size >= MNL_ATTR_HDRLEN;
    default:
        return mnl_attr_validate(attribute, type) >= 0;
    }
}

} // namespace

void NftAttributes::store_all(const char* begin, const char* end,
                              const std::vector<mnl_attr_data_type>& expected) {
    std::fill_n(table_.begin(), size_, nullptr);
    for (const char* at = begin; attribute_walk::fits(at, end); at = attribute_walk::next(at)) {
        const auto* attribute = reinterpret_cast<const nlattr*>(at);
        const std::uint16_t type = attribute->nla_type & NLA_TYPE_MASK;
        // Attributes newer than we know, or of the wrong shape, are ignored rather than misread.
        if (type < size_ && valid(attribute, expected[type])) {
            table_[type] = attribute;
        }
    }
}

std::string NftAttributes::string(std::uint16_t type) const {
    return std::string(text(type));
}

std::string_view NftAttributes::text(std::uint16_t type) const {
    return has(type) ? std::string_view(attribute_walk::payload(table_[type])) : std::string_view();
}

std::uint32_t NftAttributes::u32(std::uint16_t type) const {
    std::uint32_t value = 0;
    if (has(type)) {
        std::memcpy(&value, attribute_walk::payload(table_[type]), sizeof value);
    }
    return be32toh(value);
}

std::uint64_t NftAttributes::u64(std::uint16_t type) const {
    std::uint64_t value = 0;
    if (has(type)) {
        std::memcpy(&value, attribute_walk::payload(table_[type]), sizeof value);
    }
    return be64toh(value);
}

} // namespace acctc::runtime
