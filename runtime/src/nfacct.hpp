// nfacct objects (nfnetlink_acct, what `-m nfacct --nfacct-name NAME` charges): the iptables
// backend's quotas (docs/iptables.md, "Quotas"). An object lives in its network namespace
// outside every table, so iptables-restore, `iptables -F` and `nft flush ruleset` keep it and
// what it counted; it may carry a byte quota, past which the match holds and the kernel
// multicasts NFNL_MSG_ACCT_OVERQUOTA on NFNLGRP_ACCT_QUOTA, once until it is zeroed.
#pragma once

#include <cstdint>
#include <libmnl/libmnl.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

struct NfacctObject {
    std::string name;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t quota = 0; // bytes; 0 when the object has no byte quota
    bool over = false;       // the over-quota event was sent (NFACCT_F_OVERQUOTA)
    // References: 1 for the object itself, one more per rule (match) that charges it.
    std::uint32_t use = 0;
    bool charged() const { return use > 1; }
};

// The object a reply or an event carries; nothing when it is none (or malformed).
std::optional<NfacctObject> nfacct_object(const nlmsghdr* message);

// A netlink socket to nfnetlink_acct in the calling thread's network namespace.
class Nfacct {
  public:
    Nfacct();
    ~Nfacct();
    Nfacct(const Nfacct&) = delete;
    Nfacct& operator=(const Nfacct&) = delete;

    // Every object of the namespace; none on a kernel without nfnetlink_acct.
    std::vector<NfacctObject> list();
    // One object (zero: read and zeroed at once, re-arming its event, GET_CTRZERO); nothing
    // when it does not exist.
    std::optional<NfacctObject> get(const std::string& name, bool zero = false);
    // A new object with a byte quota that starts at `bytes` used; a positive errno on failure
    // (EEXIST: it exists, and is left as it is).
    int create(const std::string& name, std::uint64_t quota, std::uint64_t bytes);
    // Deletes an object; a positive errno on failure (EBUSY: a rule charges it, ENOENT).
    int remove(const std::string& name);
    // remove(), waiting a moment while it is EBUSY: iptables-nft releases a deleted rule's
    // reference after its commit (in the kernel's deferred work), not with it.
    int remove_released(const std::string& name);

  private:
    struct Close {
        void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
    };
    std::unique_ptr<mnl_socket, Close> socket_;
    unsigned port_id_ = 0;
    std::uint32_t sequence_ = 0;
    std::vector<char> buffer_;
    // Sends one request (attributes by `name`, `quota`, `bytes` as given) and reads the replies
    // into `out`; 0 or a positive errno.
    int exchange(std::uint8_t message, std::uint16_t flags, const std::string& name,
                 std::optional<std::uint64_t> quota, std::optional<std::uint64_t> bytes,
                 std::vector<NfacctObject>* out);
};

} // namespace acctc::runtime
