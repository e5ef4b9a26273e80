// Quotas in the kernel (docs/runtime.md, "Quotas"): each `quota` statement is two nft quota
// objects, NAME (the limit) and NAME_warn (the warning level), charged by the same rules; a
// per-host quota's sets; or, loaded by the iptables backend, one nfacct object
// (docs/iptables.md, "Quotas"). This reads them all, resets them at a period's start, renders
// them (table, JSON, Prometheus), and receives the kernel's event when one is spent.
#pragma once

#include "acctc/quota_comment.hpp"
#include "acctc/runtime/periods.hpp"

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

// Ordered: a quota's state only grows within a period.
enum class QuotaState { under, warning, exhausted };

struct QuotaReading {
    std::string policy;
    std::string quota;
    // Per-host quotas (on `split host` counters): one reading per host that has an element in
    // the quota's sets, its address (or prefix, or MAC); empty while no host has one yet.
    bool per_host = false;
    std::string host;
    std::uint64_t used = 0;  // bytes charged this period (the limit object's)
    std::uint64_t warn = 0;  // bytes at which it warns
    std::uint64_t limit = 0; // bytes per period
    QuotaIdentity identity;  // the limit object's comment: period, enforcement, origin
    // The levels up to which the kernel sends no event, seen by reading the use instead: none
    // for nft quota objects (each level is an object), the warning level for an nfacct
    // object (only its limit is one), both for a per-host quota's set elements.
    QuotaState polled = QuotaState::under;
    std::string object; // the nfacct object (iptables); empty for nft

    // The kernel's own test (nft_quota: depleted once consumed >= quota).
    QuotaState state() const {
        return used >= limit ? QuotaState::exhausted
                             : (used >= warn ? QuotaState::warning : QuotaState::under);
    }
    double percent() const { return limit ? 100.0 * static_cast<double>(used) / limit : 0; }
};

std::string_view state_name(QuotaState state);

// A quota's period length, and the period that holds `at`.
periods::Length period_length(QuotaPeriod period);
periods::Period quota_period(QuotaPeriod period, unsigned start_day, std::chrono::sys_seconds at);

// The quotas of policy (every acctc table when empty) in the current network namespace, by
// policy, quota name and host: nft's, and the iptables backend's nfacct objects. Objects acctc
// did not write (no acctcq1 comment) are left out, and so are those of a half-loaded table.
struct QuotasRead {
    std::vector<QuotaReading> readings;
    // nft policies whose apply stopped between the two steps of a new table (nft_new_table.hpp):
    // their quotas are there at zero but count nothing, so they are not among the readings.
    std::vector<std::string> unfinished;
};
QuotasRead read_quotas_noting_unfinished(const std::string& policy);
// Its readings, for callers that say why a policy counts nothing from its counters' read.
std::vector<QuotaReading> read_quotas(const std::string& policy);

// Zeroes both objects of one quota, each read and zeroed atomically by the kernel
// (NFT_MSG_GETOBJ_RESET), which also re-arms its depletion event; a per-host quota's elements
// likewise (NFT_MSG_GETSETELEM_RESET), an nfacct object likewise (GET_CTRZERO). Returns what
// they held (one reading per host of a per-host quota); empty when the quota is gone.
std::vector<QuotaReading> reset_quota(const std::string& policy, const std::string& quota);

// Quotas over counters corrected for merged packets (docs/counting.md, "Quotas on corrected
// counters"): their kernel budgets lowered by the correction so far, for `policy` (every
// policy when empty). The watcher calls it every second; apply and reset_quota() too.
// Returns how many objects it changed.
std::size_t lower_wire_quota_budgets(const std::string& policy);

// 0 when every quota is under its warning level, 1 when one is over it, 3 when one is spent
// (the exit statuses of `vnstat --alert`).
int quota_exit_status(const std::vector<QuotaReading>& readings);

std::string format_quota_table(const std::vector<QuotaReading>& readings, bool exact);
nlohmann::json quotas_to_json(const std::vector<QuotaReading>& readings);

// What the kernel says when a quota object is spent (NFT_MSG_NEWOBJ on NFNLGRP_NFTABLES, sent
// by nft_quota_obj_eval the first time consumed >= quota), or when one is created or reset;
// or when an nfacct object is (on NFNLGRP_ACCT_QUOTA, the first time bytes >= quota).
struct QuotaEvent {
    std::string policy;
    std::string object;
    QuotaIdentity identity;
    std::uint64_t bytes = 0;    // the object's quota
    std::uint64_t consumed = 0; // charged so far
    bool depleted = false;      // NFT_QUOTA_F_DEPLETED
};

// A subscription to the nf_tables and nfacct quota multicast groups in the current network
// namespace.
class QuotaEvents {
  public:
    QuotaEvents();
    ~QuotaEvents();
    QuotaEvents(const QuotaEvents&) = delete;
    QuotaEvents& operator=(const QuotaEvents&) = delete;

    int fd() const; // readable when events wait
    // The acctc quota events of the next datagram (blocks unless fd() is readable). Throws
    // when the kernel dropped events (ENOBUFS): the caller must read the quotas again.
    std::vector<QuotaEvent> receive();

  private:
    struct Socket;
    std::unique_ptr<Socket> socket_;
};

} // namespace acctc::runtime
