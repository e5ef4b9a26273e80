#include "nft_host_quota_starts.hpp"

#include "acctc/runtime/errors.hpp"
#include "nft_netlink.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <memory>
#include <optional>
#include <sys/socket.h>
#include <sys/time.h>
#include <vector>

namespace acctc::runtime {
namespace {

struct CloseSocket {
    void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
};

// The element key of a host as nft prints it: 4 or 16 address bytes, or 6 MAC bytes.
std::optional<std::vector<unsigned char>> key_of(const std::string& host) {
    std::vector<unsigned char> key(16);
    if (inet_pton(AF_INET, host.c_str(), key.data()) == 1) {
        key.resize(4);
        return key;
    }
    if (inet_pton(AF_INET6, host.c_str(), key.data()) == 1) {
        return key;
    }
    unsigned bytes[6];
    char end = 0;
    if (std::sscanf(host.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &bytes[0], &bytes[1], &bytes[2],
                    &bytes[3], &bytes[4], &bytes[5], &end) == 6) {
        key.assign(bytes, bytes + 6);
        return key;
    }
    return std::nullopt;
}

void put_batch_marker(mnl_nlmsg_batch* batch, std::uint16_t type, std::uint32_t sequence) {
    nlmsghdr* message = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(batch));
    message->nlmsg_type = type;
    message->nlmsg_flags = NLM_F_REQUEST;
    message->nlmsg_seq = sequence;
    auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(nfgenmsg)));
    header->nfgen_family = AF_UNSPEC;
    header->version = NFNETLINK_V0;
    header->res_id = htons(NFNL_SUBSYS_NFTABLES);
    mnl_nlmsg_batch_next(batch);
}

} // namespace

void add_host_quota_starts(const std::string& table, const HostQuotaStarts& starts,
                           const std::map<std::string, std::uint64_t, std::less<>>& limits) {
    // One message per host: a set of 65,536 hosts would not fit one message's 64 KiB.
    struct Element {
        std::string set;
        std::vector<unsigned char> key;
        std::uint64_t limit;
        std::uint64_t used;
    };
    std::vector<Element> elements;
    for (const auto& [set, hosts] : starts) {
        const auto limit = limits.find(set);
        if (limit == limits.end()) {
            continue;
        }
        for (const auto& [host, used] : hosts) {
            if (auto key = key_of(host); key && used != 0) {
                elements.push_back(
                    {set, std::move(*key), limit->second, std::min(used, limit->second)});
            }
        }
    }
    if (elements.empty()) {
        return;
    }
    std::unique_ptr<mnl_socket, CloseSocket> socket(mnl_socket_open(NETLINK_NETFILTER));
    if (!socket || mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw RuntimeError(ErrorKind::system,
                           std::string("cannot open a netfilter netlink socket: ") +
                               std::strerror(errno));
    }
    const unsigned port = mnl_socket_get_portid(socket.get());
    // Never wait forever for an acknowledgement the kernel does not send.
    const timeval patience{5, 0};
    setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVTIMEO, &patience,
               sizeof patience);
    // Batches of up to ~200 elements: each transaction is the kernel's, all or nothing.
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE * 16);
    std::vector<char> reply(MNL_SOCKET_BUFFER_SIZE);
    std::uint32_t sequence = static_cast<std::uint32_t>(time(nullptr));
    for (std::size_t first = 0; first < elements.size();) {
        std::unique_ptr<mnl_nlmsg_batch, decltype(&mnl_nlmsg_batch_stop)> batch(
            mnl_nlmsg_batch_start(buffer.data(), buffer.size() / 2), &mnl_nlmsg_batch_stop);
        put_batch_marker(batch.get(), NFNL_MSG_BATCH_BEGIN, sequence++);
        const std::uint32_t first_sequence = sequence;
        std::size_t next = first;
        for (; next < elements.size() && next - first < 200; ++next) {
            const Element& e = elements[next];
            nlmsghdr* message = put_nft_header(
                static_cast<char*>(mnl_nlmsg_batch_current(batch.get())), NFT_MSG_NEWSETELEM,
                NLM_F_CREATE | NLM_F_ACK, NFPROTO_INET, sequence++);
            mnl_attr_put_strz(message, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
            mnl_attr_put_strz(message, NFTA_SET_ELEM_LIST_SET, e.set.c_str());
            nlattr* list = mnl_attr_nest_start(message, NFTA_SET_ELEM_LIST_ELEMENTS);
            nlattr* element = mnl_attr_nest_start(message, NFTA_LIST_ELEM);
            nlattr* key = mnl_attr_nest_start(message, NFTA_SET_ELEM_KEY);
            mnl_attr_put(message, NFTA_DATA_VALUE, e.key.size(), e.key.data());
            mnl_attr_nest_end(message, key);
            nlattr* expressions = mnl_attr_nest_start(message, NFTA_SET_ELEM_EXPRESSIONS);
            nlattr* expression = mnl_attr_nest_start(message, NFTA_LIST_ELEM);
            mnl_attr_put_strz(message, NFTA_EXPR_NAME, "quota");
            nlattr* data = mnl_attr_nest_start(message, NFTA_EXPR_DATA);
            mnl_attr_put_u64(message, NFTA_QUOTA_BYTES, htobe64(e.limit));
            mnl_attr_put_u32(message, NFTA_QUOTA_FLAGS, htobe32(NFT_QUOTA_F_INV));
            mnl_attr_put_u64(message, NFTA_QUOTA_CONSUMED, htobe64(e.used));
            mnl_attr_nest_end(message, data);
            mnl_attr_nest_end(message, expression);
            mnl_attr_nest_end(message, expressions);
            mnl_attr_nest_end(message, element);
            mnl_attr_nest_end(message, list);
            mnl_nlmsg_batch_next(batch.get());
        }
        put_batch_marker(batch.get(), NFNL_MSG_BATCH_END, sequence++);
        if (mnl_socket_sendto(socket.get(), mnl_nlmsg_batch_head(batch.get()),
                              mnl_nlmsg_batch_size(batch.get())) < 0) {
            throw RuntimeError(ErrorKind::system,
                               std::string("cannot send quota elements: ") + std::strerror(errno));
        }
        // One acknowledgement per element; an error aborts the whole batch.
        std::size_t acknowledged = 0;
        int refused = 0;
        while (acknowledged < next - first && refused == 0) {
            const ssize_t length = mnl_socket_recvfrom(socket.get(), reply.data(), reply.size());
            if (length < 0 && errno == EINTR) {
                continue;
            }
            if (length < 0) {
                throw RuntimeError(ErrorKind::system,
                                   std::string("no answer about the hosts of per-host quotas: ") +
                                       std::strerror(errno));
            }
            const auto* message = reinterpret_cast<const nlmsghdr*>(reply.data());
            int left = static_cast<int>(length);
            while (mnl_nlmsg_ok(message, left)) {
                if (message->nlmsg_type == NLMSG_ERROR && message->nlmsg_pid == port &&
                    message->nlmsg_seq >= first_sequence) {
                    const auto* error =
                        static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
                    ++acknowledged;
                    if (error->error != 0 && refused == 0) {
                        refused = -error->error;
                    }
                }
                message = mnl_nlmsg_next(message, &left);
            }
        }
        if (refused != 0) {
            throw RuntimeError(ErrorKind::rejected,
                               "the kernel refused the hosts of table inet " + table +
                                   "'s per-host quotas: " + std::strerror(refused));
        }
        first = next;
    }
}

void start_new_host_quotas(const std::string& table, const CompiledPolicy& policy,
                           const std::vector<std::string>& kept_sets) {
    HostQuotaStarts starts;
    std::map<std::string, std::uint64_t, std::less<>> limits;
    for (const auto& quota : policy.quotas) {
        for (const auto& set : quota.sets) {
            const auto hosts = policy.quota_starts.hosts.find(set);
            if (hosts != policy.quota_starts.hosts.end() &&
                std::find(kept_sets.begin(), kept_sets.end(), set) == kept_sets.end()) {
                starts[set] = hosts->second;
                limits[set] = quota.limit;
            }
        }
    }
    add_host_quota_starts(table, starts, limits);
}

} // namespace acctc::runtime
