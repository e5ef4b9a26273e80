#include "acctc/testbench/rtnetlink.hpp"

#include "acctc/testbench/unique_fd.hpp"

#include <cerrno>
#include <ctime>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

namespace acctc::testbench {

void RtnlSocket::Closer::operator()(mnl_socket* socket) const {
    mnl_socket_close(socket);
}

RtnlSocket::RtnlSocket()
    : socket_(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)),
      sequence_(static_cast<unsigned>(std::time(nullptr))), buffer_(MNL_SOCKET_BUFFER_SIZE) {
    if (!socket_) {
        throw_errno("open rtnetlink socket");
    }
    if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw_errno("bind rtnetlink socket");
    }
    port_id_ = mnl_socket_get_portid(socket_.get());
}

nlmsghdr* RtnlSocket::start(std::uint16_t type, std::uint16_t flags) {
    auto* header = mnl_nlmsg_put_header(buffer_.data());
    header->nlmsg_type = type;
    header->nlmsg_flags = NLM_F_REQUEST | flags;
    header->nlmsg_seq = ++sequence_;
    return header;
}

void RtnlSocket::execute(const std::string& what,
                         const std::function<void(const nlmsghdr*)>& on_message) {
    reinterpret_cast<nlmsghdr*>(buffer_.data())->nlmsg_flags |= NLM_F_ACK;
    transact(what, on_message);
}

void RtnlSocket::dump(const std::string& what,
                      const std::function<void(const nlmsghdr*)>& on_message) {
    reinterpret_cast<nlmsghdr*>(buffer_.data())->nlmsg_flags |= NLM_F_DUMP;
    transact(what, on_message);
}

void RtnlSocket::transact(const std::string& what,
                          const std::function<void(const nlmsghdr*)>& on_message) {
    const auto* header = reinterpret_cast<const nlmsghdr*>(buffer_.data());
    const unsigned sequence = header->nlmsg_seq;
    if (mnl_socket_sendto(socket_.get(), header, header->nlmsg_len) < 0) {
        throw_errno(what);
    }
    auto trampoline = [](const nlmsghdr* message, void* data) {
        const auto& callback = *static_cast<const std::function<void(const nlmsghdr*)>*>(data);
        if (callback) {
            callback(message);
        }
        return MNL_CB_OK;
    };
    // mnl's C API takes a non-const pointer; the callback is only read.
    auto* callback_data = const_cast<void*>(static_cast<const void*>(&on_message));
    std::vector<char> reply(MNL_SOCKET_BUFFER_SIZE);
    for (;;) {
        const auto length = mnl_socket_recvfrom(socket_.get(), reply.data(), reply.size());
        if (length < 0) {
            throw_errno(what);
        }
        // mnl_cb_run checks sequence and port, and turns NLMSG_ERROR into -1 with errno;
        // an ACK (error 0) or NLMSG_DONE ends the exchange.
        const int status = mnl_cb_run(reply.data(), static_cast<std::size_t>(length), sequence,
                                      port_id_, trampoline, callback_data);
        if (status < 0) {
            throw_errno(what);
        }
        if (status == MNL_CB_STOP) {
            return;
        }
    }
}

} // namespace acctc::testbench
