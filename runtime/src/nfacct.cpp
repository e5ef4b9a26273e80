#include "nfacct.hpp"

#include "acctc/runtime/errors.hpp"
#include "nft_netlink.hpp"

#include <cerrno>
#include <chrono>
#include <endian.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_acct.h>
#include <sys/socket.h>
#include <thread>

namespace acctc::runtime {
namespace {

constexpr std::size_t buffer_size = 1 << 16;

// Each attribute of one nfacct message, its type checked (mnl_attr_validate).
struct Attributes {
    const nlattr* table[NFACCT_MAX + 1] = {};
};

int collect(const nlattr* attribute, void* data) {
    const auto type = mnl_attr_get_type(attribute);
    if (mnl_attr_type_valid(attribute, NFACCT_MAX) < 0) {
        return MNL_CB_OK; // newer than this header: not ours to read
    }
    mnl_attr_data_type expected = MNL_TYPE_UNSPEC;
    switch (type) {
    case NFACCT_NAME:
        expected = MNL_TYPE_NUL_STRING;
        break;
    case NFACCT_PKTS:
    case NFACCT_BYTES:
    case NFACCT_QUOTA:
        expected = MNL_TYPE_U64;
        break;
    case NFACCT_USE:
    case NFACCT_FLAGS:
        expected = MNL_TYPE_U32;
        break;
    default:
        return MNL_CB_OK;
    }
    if (mnl_attr_validate(attribute, expected) < 0) {
        return MNL_CB_ERROR;
    }
    static_cast<Attributes*>(data)->table[type] = attribute;
    return MNL_CB_OK;
}

} // namespace

std::optional<NfacctObject> nfacct_object(const nlmsghdr* message) {
    const auto type = static_cast<std::uint8_t>(message->nlmsg_type & 0xff);
    if ((message->nlmsg_type >> 8) != NFNL_SUBSYS_ACCT ||
        (type != NFNL_MSG_ACCT_NEW && type != NFNL_MSG_ACCT_OVERQUOTA)) {
        return std::nullopt;
    }
    Attributes a;
    if (mnl_attr_parse(message, sizeof(nfgenmsg), collect, &a) < 0 || !a.table[NFACCT_NAME]) {
        return std::nullopt;
    }
    NfacctObject out;
    out.name = mnl_attr_get_str(a.table[NFACCT_NAME]);
    auto u64 = [&](int attribute) {
        return a.table[attribute] ? be64toh(mnl_attr_get_u64(a.table[attribute])) : 0;
    };
    out.packets = u64(NFACCT_PKTS);
    out.bytes = u64(NFACCT_BYTES);
    const std::uint32_t flags =
        a.table[NFACCT_FLAGS] ? be32toh(mnl_attr_get_u32(a.table[NFACCT_FLAGS])) : 0;
    if (flags & NFACCT_F_QUOTA_BYTES) {
        out.quota = u64(NFACCT_QUOTA);
    }
    out.over = (flags & NFACCT_F_OVERQUOTA) != 0;
    out.use = a.table[NFACCT_USE] ? be32toh(mnl_attr_get_u32(a.table[NFACCT_USE])) : 0;
    return out;
}

Nfacct::Nfacct() : socket_(mnl_socket_open(NETLINK_NETFILTER)), buffer_(buffer_size) {
    if (!socket_) {
        throw_system_error("cannot open a netfilter netlink socket", errno);
    }
    if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw_system_error("cannot bind the netfilter netlink socket", errno);
    }
    port_id_ = mnl_socket_get_portid(socket_.get());
}

Nfacct::~Nfacct() = default;

int Nfacct::exchange(std::uint8_t message, std::uint16_t flags, const std::string& name,
                     std::optional<std::uint64_t> quota, std::optional<std::uint64_t> bytes,
                     std::vector<NfacctObject>* out) {
    if (name.size() >= NFACCT_NAME_MAX) {
        return ENAMETOOLONG;
    }
    const std::uint32_t sequence = ++sequence_;
    nlmsghdr* request =
        put_nfnetlink_header(buffer_.data(), NFNL_SUBSYS_ACCT, message, flags, AF_UNSPEC, sequence);
    // Always a name, except for a dump: DEL without one deletes every unused object.
    if (!name.empty()) {
        mnl_attr_put_strz(request, NFACCT_NAME, name.c_str());
    } else if ((flags & NLM_F_DUMP) != NLM_F_DUMP) {
        return EINVAL;
    }
    if (quota) {
        mnl_attr_put_u32(request, NFACCT_FLAGS, htobe32(NFACCT_F_QUOTA_BYTES));
        mnl_attr_put_u64(request, NFACCT_QUOTA, htobe64(*quota));
    }
    if (bytes) {
        mnl_attr_put_u64(request, NFACCT_BYTES, htobe64(*bytes));
    }
    if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0) {
        throw_system_error("cannot send to nfnetlink_acct", errno);
    }
    for (;;) {
        ssize_t received = 0;
        do {
            received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
        } while (received < 0 && errno == EINTR);
        if (received < 0) {
            throw_system_error("cannot receive from nfnetlink_acct", errno);
        }
        int left = static_cast<int>(received);
        for (auto* reply = reinterpret_cast<const nlmsghdr*>(buffer_.data());
             mnl_nlmsg_ok(reply, left); reply = mnl_nlmsg_next(reply, &left)) {
            if (!mnl_nlmsg_seq_ok(reply, sequence) || !mnl_nlmsg_portid_ok(reply, port_id_)) {
                continue;
            }
            if (reply->nlmsg_type == NLMSG_DONE) {
                return 0;
            }
            if (reply->nlmsg_type == NLMSG_ERROR) {
                const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(reply));
                return -error->error;
            }
            if (out != nullptr) {
                if (auto object = nfacct_object(reply)) {
                    out->push_back(std::move(*object));
                }
            }
        }
    }
}

std::vector<NfacctObject> Nfacct::list() {
    std::vector<NfacctObject> out;
    const int error = exchange(NFNL_MSG_ACCT_GET, NLM_F_DUMP, "", {}, {}, &out);
    if (error == EINVAL || error == EOPNOTSUPP || error == EPROTONOSUPPORT) {
        return {}; // a kernel without nfnetlink_acct (nfnetlink knows no such subsystem)
    }
    if (error != 0) {
        throw_system_error("cannot list nfacct objects", error);
    }
    return out;
}

std::optional<NfacctObject> Nfacct::get(const std::string& name, bool zero) {
    std::vector<NfacctObject> out;
    const int error = exchange(zero ? NFNL_MSG_ACCT_GET_CTRZERO : NFNL_MSG_ACCT_GET, NLM_F_ACK,
                               name, {}, {}, &out);
    if (error == ENOENT) {
        return std::nullopt;
    }
    if (error != 0) {
        throw_system_error("cannot read nfacct object " + name, error);
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out.front();
}

int Nfacct::create(const std::string& name, std::uint64_t quota, std::uint64_t bytes) {
    // NLM_F_EXCL: an existing object is refused, never zeroed (which NLM_F_REPLACE would do,
    // keeping its old quota all the same).
    return exchange(NFNL_MSG_ACCT_NEW, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, name, quota, bytes,
                    nullptr);
}

int Nfacct::remove(const std::string& name) {
    return exchange(NFNL_MSG_ACCT_DEL, NLM_F_ACK, name, {}, {}, nullptr);
}

int Nfacct::remove_released(const std::string& name) {
    int error = remove(name);
    for (int attempt = 0; error == EBUSY && attempt < 40; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        error = remove(name);
    }
    return error;
}

} // namespace acctc::runtime
