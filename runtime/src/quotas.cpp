#include "acctc/runtime/quotas.hpp"

#include "acctc/runtime/counter_report.hpp"
#include "acctc/runtime/errors.hpp"
#include "bpf_wire.hpp"
#include "iptables_quotas.hpp"
#include "nft_counter_dump.hpp"
#include "nft_host_counters.hpp"
#include "nft_netlink.hpp"
#include "nft_new_table.hpp"
#include "nft_quota_objects.hpp"
#include "text_table.hpp"
#include "wire_quota_budgets.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <map>
#include <tuple>

namespace acctc::runtime {
namespace {

constexpr std::string_view table_prefix = "acctc_";

} // namespace

std::optional<QuotaEvent> quota_object(const nlmsghdr* message) {
    const auto& object_expected = object_attributes();
    static const auto quota_expected =
        attribute_types(NFTA_QUOTA_MAX, {{NFTA_QUOTA_BYTES, MNL_TYPE_U64},
                                         {NFTA_QUOTA_CONSUMED, MNL_TYPE_U64},
                                         {NFTA_QUOTA_FLAGS, MNL_TYPE_U32}});
    const NftAttributes object(message, object_expected);
    if (!object.has(NFTA_OBJ_TYPE) || object.u32(NFTA_OBJ_TYPE) != NFT_OBJECT_QUOTA ||
        !object.has(NFTA_OBJ_DATA) || !object.has(NFTA_OBJ_TABLE) || !object.has(NFTA_OBJ_NAME)) {
        return std::nullopt;
    }
    const std::string table = object.string(NFTA_OBJ_TABLE);
    if (!table.starts_with(table_prefix)) {
        return std::nullopt;
    }
    QuotaEvent out;
    out.policy = table.substr(table_prefix.size());
    out.object = object.string(NFTA_OBJ_NAME);
    std::string comment;
    if (const nlattr* userdata = object.raw(NFTA_OBJ_USERDATA)) {
        comment =
            comment_from_userdata(static_cast<const unsigned char*>(mnl_attr_get_payload(userdata)),
                                  mnl_attr_get_payload_len(userdata));
    }
    auto identity = decode_quota_comment(out.object, comment);
    if (!identity) {
        return std::nullopt;
    }
    out.identity = std::move(*identity);
    const NftAttributes values(object.raw(NFTA_OBJ_DATA), quota_expected);
    out.bytes = values.has(NFTA_QUOTA_BYTES) ? values.u64(NFTA_QUOTA_BYTES) : 0;
    out.consumed = values.has(NFTA_QUOTA_CONSUMED) ? values.u64(NFTA_QUOTA_CONSUMED) : 0;
    out.depleted =
        values.has(NFTA_QUOTA_FLAGS) && (values.u32(NFTA_QUOTA_FLAGS) & NFT_QUOTA_F_DEPLETED) != 0;
    return out;
}

namespace {

void put_object(nlmsghdr* request, const std::string& table, const std::string& name) {
    if (!table.empty()) {
        mnl_attr_put_strz(request, NFTA_OBJ_TABLE, table.c_str());
    }
    if (!name.empty()) {
        mnl_attr_put_strz(request, NFTA_OBJ_NAME, name.c_str());
    }
    mnl_attr_put_u32(request, NFTA_OBJ_TYPE, htobe32(NFT_OBJECT_QUOTA));
}

// Pairs each quota's limit and warning objects into readings, sorted by policy and quota.
std::vector<QuotaReading> pair_objects(const std::vector<QuotaEvent>& objects) {
    std::map<std::pair<std::string, std::string>, QuotaReading> quotas;
    for (const auto& object : objects) {
        QuotaReading& reading = quotas[{object.policy, object.identity.quota}];
        reading.policy = object.policy;
        reading.quota = object.identity.quota;
        if (object.identity.role == QuotaRole::limit) {
            reading.used = object.consumed;
            reading.limit = object.bytes;
            reading.identity = object.identity;
        } else {
            reading.warn = object.bytes;
        }
    }
    std::vector<QuotaReading> out;
    for (auto& [key, reading] : quotas) {
        if (reading.limit != 0) { // a warning object without its quota is half a reload
            out.push_back(std::move(reading));
        }
    }
    return out;
}

std::string period_text(const QuotaIdentity& identity) {
    std::string text(period_name(identity.period));
    if (identity.period == QuotaPeriod::month && identity.start_day != 1) {
        text += " from day " + std::to_string(identity.start_day);
    }
    return text;
}

std::string percent_text(double percent) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%%", percent);
    return text;
}

} // namespace

std::string_view state_name(QuotaState state) {
    switch (state) {
    case QuotaState::under:
        return "ok";
    case QuotaState::warning:
        return "warning";
    case QuotaState::exhausted:
        return "exhausted";
    }
    return "ok";
}

periods::Length period_length(QuotaPeriod period) {
    switch (period) {
    case QuotaPeriod::hour:
        return periods::Length::hour;
    case QuotaPeriod::day:
        return periods::Length::day;
    case QuotaPeriod::month:
        return periods::Length::month;
    }
    return periods::Length::month;
}

periods::Period quota_period(QuotaPeriod period, unsigned start_day, std::chrono::sys_seconds at) {
    return periods::containing(at, period_length(period), static_cast<int>(start_day));
}

std::vector<QuotaEvent> dump_quota_objects(NftNetlink& netlink, const std::string& table) {
    std::vector<QuotaEvent> objects;
    for (int attempt = 0;; ++attempt) {
        objects.clear();
        const bool complete = netlink.dump(
            NFT_MSG_GETOBJ, NFPROTO_INET,
            [&](nlmsghdr* request) { put_object(request, table, ""); },
            [&](const nlmsghdr* reply) {
                if (auto object = quota_object(reply)) {
                    objects.push_back(std::move(*object));
                }
            });
        if (complete || attempt == 10) {
            return objects;
        }
    }
}

namespace {

// Per-host quotas (lower_quotas.cpp): sets NAME_quota_v4, _v6, _mac whose elements each carry
// the quota, the set's comment the quota's identity with its warning level.
constexpr std::string_view quota_set_suffixes[] = {"_quota_v4", "_quota_v6", "_quota_mac"};

bool is_quota_set_comment(std::string_view comment) {
    return is_quota_comment(comment);
}

// The per-host quotas of `table` (every acctc table when empty), one reading per host and one
// without a host for a quota no host has charged yet; `quota` (when given) selects one, and
// `reset` zeroes what it reads.
std::vector<QuotaReading> host_quota_readings(NftNetlink& netlink, const std::string& table,
                                              const std::string& quota, bool reset) {
    std::map<std::tuple<std::string, std::string, std::string>, QuotaReading> hosts;
    std::map<std::pair<std::string, std::string>, QuotaReading> quotas;
    for (const auto& set : commented_sets(netlink, table, is_quota_set_comment)) {
        if (!set.table.starts_with(table_prefix) || !set.quota_bytes) {
            continue;
        }
        std::string name;
        for (const auto suffix : quota_set_suffixes) {
            if (set.name.ends_with(suffix)) {
                name = set.name.substr(0, set.name.size() - suffix.size());
            }
        }
        const auto identity = name.empty() ? std::nullopt : decode_quota_comment(name, set.comment);
        if (!identity || (!quota.empty() && identity->quota != quota)) {
            continue;
        }
        QuotaReading reading;
        reading.policy = set.table.substr(table_prefix.size());
        reading.quota = identity->quota;
        reading.per_host = true;
        reading.warn = identity->warn;
        reading.limit = *set.quota_bytes;
        reading.identity = *identity;
        reading.polled = QuotaState::exhausted; // set elements send no event
        quotas.emplace(std::pair{reading.policy, reading.quota}, reading);
        std::vector<QuotaReading> elements;
        dump_elements(
            netlink, set.table, set.name, reset, [&] { elements.clear(); },
            [&](const std::string& host, const nlattr* expression) {
                QuotaReading one = reading;
                std::uint64_t bytes = 0;
                if (read_element_quota(expression, bytes, one.used)) {
                    one.host = host;
                    elements.push_back(std::move(one));
                }
            });
        for (auto& one : elements) {
            hosts[{one.policy, one.quota, one.host}] = std::move(one);
        }
    }
    std::vector<QuotaReading> out;
    for (auto& [key, reading] : quotas) {
        const bool any = std::any_of(hosts.begin(), hosts.end(), [&](const auto& host) {
            return std::get<0>(host.first) == key.first && std::get<1>(host.first) == key.second;
        });
        if (!any) {
            out.push_back(std::move(reading));
        }
    }
    for (auto& [key, reading] : hosts) {
        out.push_back(std::move(reading));
    }
    return out;
}

} // namespace

QuotasRead read_quotas_noting_unfinished(const std::string& policy) {
    NftNetlink netlink;
    const std::string table = policy.empty() ? "" : std::string(table_prefix) + policy;
    QuotasRead read;
    for (const auto& name :
         table_names(netlink, NFPROTO_INET, table.empty() ? table_prefix : table)) {
        if ((table.empty() || name == table) && stopped_between_steps(netlink, name)) {
            read.unfinished.push_back(name.substr(table_prefix.size()));
        }
    }
    auto& readings = read.readings;
    readings = pair_objects(dump_quota_objects(netlink, table));
    auto hosts = host_quota_readings(netlink, table, "", false);
    readings.insert(readings.end(), std::make_move_iterator(hosts.begin()),
                    std::make_move_iterator(hosts.end()));
    // A half-loaded table's quota objects and sets are there, at zero, counting nothing.
    std::erase_if(readings, [&](const QuotaReading& reading) {
        return std::find(read.unfinished.begin(), read.unfinished.end(), reading.policy) !=
               read.unfinished.end();
    });
    auto iptables = read_nfacct_quotas(policy);
    readings.insert(readings.end(), std::make_move_iterator(iptables.begin()),
                    std::make_move_iterator(iptables.end()));
    add_wire_quota_corrections(readings); // wire_quota_budgets.hpp
    std::sort(readings.begin(), readings.end(), [](const auto& a, const auto& b) {
        return std::tie(a.policy, a.quota, a.host) < std::tie(b.policy, b.quota, b.host);
    });
    return read;
}

std::vector<QuotaReading> read_quotas(const std::string& policy) {
    return read_quotas_noting_unfinished(policy).readings;
}

std::vector<QuotaReading> reset_quota(const std::string& policy, const std::string& quota) {
    const std::string table = std::string(table_prefix) + policy;
    NftNetlink netlink;
    if (auto hosts = host_quota_readings(netlink, table, quota, true); !hosts.empty()) {
        return hosts;
    }
    std::vector<QuotaEvent> objects;
    // The limit first: a packet charged between the two resets then counts in the new period
    // of the quota itself (and only its warning object misses it).
    for (const QuotaRole role : {QuotaRole::limit, QuotaRole::warn}) {
        const std::string name = quota_object_name({quota, role, {}, 1, false, {}});
        const int error = netlink.request(
            NFT_MSG_GETOBJ_RESET, NFPROTO_INET,
            [&](nlmsghdr* request) { put_object(request, table, name); },
            [&](const nlmsghdr* reply) {
                if (auto object = quota_object(reply)) {
                    objects.push_back(std::move(*object));
                }
            });
        if (error == ENOENT) {
            continue;
        }
        if (error != 0) {
            throw RuntimeError(ErrorKind::system, "cannot reset quota " + name + " of table inet " +
                                                      table + ": " + std::strerror(error));
        }
    }
    if (auto held = pair_objects(objects); !held.empty()) {
        // The correction of merged packets restarts too, and the budgets it lowered are whole
        // again (wire_quota_budgets.hpp).
        add_wire_quota_corrections(held);
        if (restart_wire_quota(policy, quota)) {
            lower_quota_budgets(netlink, policy);
        }
        return held;
    }
    return reset_nfacct_quota(policy, quota);
}

std::size_t lower_wire_quota_budgets(const std::string& policy) {
    NftNetlink netlink;
    return lower_quota_budgets(netlink, policy);
}

int quota_exit_status(const std::vector<QuotaReading>& readings) {
    QuotaState worst = QuotaState::under;
    for (const auto& reading : readings) {
        worst = std::max(worst, reading.state());
    }
    return worst == QuotaState::exhausted ? 3 : (worst == QuotaState::warning ? 1 : 0);
}

std::string format_quota_table(const std::vector<QuotaReading>& readings, bool exact) {
    // A HOST column only when a per-host quota is shown.
    const bool hosts = std::any_of(readings.begin(), readings.end(),
                                   [](const QuotaReading& r) { return r.per_host; });
    std::vector<Row> rows{
        {"POLICY", "QUOTA", "PERIOD", "USED", "WARN AT", "LIMIT", "USE", "STATE", "ORIGIN"}};
    std::vector<bool> right{false, false, false, true, true, true, true, false, false};
    if (hosts) {
        rows.front().insert(rows.front().begin() + 2, "HOST");
        right.insert(right.begin() + 2, false);
    }
    for (const auto& r : readings) {
        Row row{r.policy,
                r.quota,
                period_text(r.identity),
                format_bytes(r.used, exact),
                format_bytes(r.warn, exact),
                format_bytes(r.limit, exact),
                percent_text(r.percent()),
                std::string(state_name(r.state())) +
                    (r.identity.drop && r.state() == QuotaState::exhausted ? ", dropping" : ""),
                r.identity.origin};
        if (hosts) {
            row.insert(row.begin() + 2, !r.per_host ? "" : r.host.empty() ? "(none yet)" : r.host);
        }
        rows.push_back(std::move(row));
    }
    return render_table(rows, right);
}

nlohmann::json quotas_to_json(const std::vector<QuotaReading>& readings) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : readings) {
        // start_day always there, as documented: null where a period has no billing day.
        nlohmann::json period = {{"length", period_name(r.identity.period)},
                                 {"start_day", nullptr}};
        if (r.identity.period == QuotaPeriod::month) {
            period["start_day"] = r.identity.start_day;
        }
        nlohmann::json host = nullptr; // a per-host quota no host has charged yet
        if (!r.host.empty()) {
            host = r.host;
        }
        out.push_back({{"policy", r.policy},
                       {"quota", r.quota},
                       {"per_host", r.per_host},
                       {"host", std::move(host)},
                       {"period", std::move(period)},
                       {"used_bytes", r.used},
                       {"warning_bytes", r.warn},
                       {"limit_bytes", r.limit},
                       {"percent", r.percent()},
                       {"state", state_name(r.state())},
                       {"drop", r.identity.drop},
                       {"origin", r.identity.origin}});
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Events

struct QuotaEvents::Socket {
    struct Close {
        void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
    };
    std::unique_ptr<mnl_socket, Close> socket;
    std::vector<char> buffer = std::vector<char>(MNL_SOCKET_BUFFER_SIZE * 4);
};

QuotaEvents::QuotaEvents() : socket_(std::make_unique<Socket>()) {
    socket_->socket.reset(mnl_socket_open(NETLINK_NETFILTER));
    if (!socket_->socket) {
        throw RuntimeError(ErrorKind::system,
                           std::string("cannot open a netfilter netlink socket: ") +
                               std::strerror(errno));
    }
    if (mnl_socket_bind(socket_->socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw RuntimeError(ErrorKind::system,
                           std::string("cannot bind the netlink socket: ") + std::strerror(errno));
    }
    for (int group : {NFNLGRP_NFTABLES, NFNLGRP_ACCT_QUOTA}) {
        if (mnl_socket_setsockopt(socket_->socket.get(), NETLINK_ADD_MEMBERSHIP, &group,
                                  sizeof group) < 0) {
            throw RuntimeError(ErrorKind::system,
                               std::string("cannot subscribe to quota events: ") +
                                   std::strerror(errno));
        }
    }
}

QuotaEvents::~QuotaEvents() = default;

int QuotaEvents::fd() const {
    return mnl_socket_get_fd(socket_->socket.get());
}

std::vector<QuotaEvent> QuotaEvents::receive() {
    ssize_t length = 0;
    do {
        length = mnl_socket_recvfrom(socket_->socket.get(), socket_->buffer.data(),
                                     socket_->buffer.size());
    } while (length < 0 && errno == EINTR);
    if (length < 0) {
        throw RuntimeError(ErrorKind::system,
                           std::string("nf_tables events lost: ") + std::strerror(errno));
    }
    std::vector<QuotaEvent> events;
    const auto* message = reinterpret_cast<const nlmsghdr*>(socket_->buffer.data());
    int left = static_cast<int>(length);
    while (mnl_nlmsg_ok(message, left)) {
        const bool new_object =
            message->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ);
        if (new_object) {
            if (auto event = quota_object(message)) {
                events.push_back(std::move(*event));
            }
        } else if ((message->nlmsg_type >> 8) == NFNL_SUBSYS_ACCT) {
            if (auto event = nfacct_quota_event(message)) { // iptables' quotas
                events.push_back(std::move(*event));
            }
        }
        message = mnl_nlmsg_next(message, &left);
    }
    return events;
}

} // namespace acctc::runtime
