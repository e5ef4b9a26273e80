// What a kernel quota object is, written into its comment so `acctc quotas` and the watcher
// know a quota's period, role and enforcement from the kernel alone (no policy file needed).
// The compiler encodes, the runtime decodes: both go through this one header.
//
// Format, version 1 (docs/runtime.md, "Quotas"):
//     acctcq1 q=<n> role=limit|warn per=hour|day|month[/<start day>][ drop][ warn=<bytes>][
//     @<origin>]
// (warn= on the sets of per-host quotas only).
// <n> is the length of the quota's name, the first <n> bytes of the object's name (line and
// line_warn: q=4). The origin is escaped as in counter comments and cut from the left to fit.
#pragma once

#include "acctc/counter_labels.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctc {

enum class QuotaRole { limit, warn };
enum class QuotaPeriod { hour, day, month };

constexpr std::string_view period_name(QuotaPeriod period) {
    return period == QuotaPeriod::hour ? "hour" : period == QuotaPeriod::day ? "day" : "month";
}

struct QuotaIdentity {
    std::string quota; // the statement's name; the object is it (limit) or it + "_warn"
    QuotaRole role = QuotaRole::limit;
    QuotaPeriod period = QuotaPeriod::month;
    unsigned start_day = 1; // monthly periods
    bool drop = false;
    std::string origin;
    // A per-host quota's set (NAME_quota_v4, _v6, _mac) has no warning object: its comment
    // carries the warning level (warn=N); 0 for quota objects.
    std::uint64_t warn = 0;
    friend bool operator==(const QuotaIdentity&, const QuotaIdentity&) = default;
};

inline constexpr std::string_view quota_comment_version = "acctcq1";
inline constexpr std::uint64_t max_warn = 0x7fffffffffffffffULL; // nft_quota's S64_MAX

// A comment acctc wrote on a quota object or a per-host quota's set.
inline bool is_quota_comment(std::string_view comment) {
    return comment.starts_with(quota_comment_version) &&
           comment.substr(quota_comment_version.size()).starts_with(" ");
}

inline std::string quota_object_name(const QuotaIdentity& identity) {
    return identity.role == QuotaRole::limit ? identity.quota : identity.quota + "_warn";
}

inline std::string encode_quota_comment(const QuotaIdentity& identity,
                                        std::size_t limit = nft_comment_limit) {
    std::string out(quota_comment_version);
    out += " q=" + std::to_string(identity.quota.size());
    out += identity.role == QuotaRole::limit ? " role=limit" : " role=warn";
    out += " per=" + std::string(period_name(identity.period));
    if (identity.period == QuotaPeriod::month) {
        out += "/" + std::to_string(identity.start_day);
    }
    if (identity.drop) {
        out += " drop";
    }
    if (identity.warn != 0) {
        out += " warn=" + std::to_string(identity.warn);
    }
    if (identity.origin.empty()) {
        return out;
    }
    std::string origin;
    counter_labels_detail::escape_into(origin, identity.origin);
    const std::size_t room = limit > out.size() + 2 ? limit - out.size() - 2 : 0;
    if (origin.size() > room) {
        if (room < 4) {
            return out;
        }
        std::size_t cut = origin.size() - (room - 3);
        if (origin[cut - 1] == '%') { // never split an escape
            cut += 2;
        } else if (cut >= 2 && origin[cut - 2] == '%') {
            cut += 1;
        }
        origin = "..." + origin.substr(cut);
    }
    return out + " @" + origin;
}

// The identity of quota object `name` from its comment; nothing when the comment is not one.
inline std::optional<QuotaIdentity> decode_quota_comment(std::string_view name,
                                                         std::string_view comment) {
    if (!comment.starts_with(std::string(quota_comment_version) + " ")) {
        return std::nullopt;
    }
    QuotaIdentity out;
    bool named = false;
    std::size_t at = quota_comment_version.size() + 1;
    while (at <= comment.size()) {
        const std::size_t end = std::min(comment.find(' ', at), comment.size());
        const std::string_view word = comment.substr(at, end - at);
        at = end + 1;
        if (word.starts_with("q=")) {
            std::size_t length = 0;
            for (char c : word.substr(2)) {
                if (c < '0' || c > '9') {
                    return std::nullopt;
                }
                length = length * 10 + static_cast<std::size_t>(c - '0');
            }
            if (length == 0 || length > name.size()) {
                return std::nullopt;
            }
            out.quota = std::string(name.substr(0, length));
            named = true;
        } else if (word == "role=limit" || word == "role=warn") {
            out.role = word == "role=limit" ? QuotaRole::limit : QuotaRole::warn;
        } else if (word.starts_with("per=")) {
            std::string_view period = word.substr(4);
            const std::size_t slash = period.find('/');
            if (slash != std::string_view::npos) {
                unsigned day = 0;
                for (char c : period.substr(slash + 1)) {
                    if (c < '0' || c > '9' || day > 100) {
                        return std::nullopt;
                    }
                    day = day * 10 + static_cast<unsigned>(c - '0');
                }
                if (day < 1 || day > 28) { // the checker's range: every month has the day
                    return std::nullopt;
                }
                out.start_day = day;
                period = period.substr(0, slash);
            }
            if (period == "hour") {
                out.period = QuotaPeriod::hour;
            } else if (period == "day") {
                out.period = QuotaPeriod::day;
            } else if (period == "month") {
                out.period = QuotaPeriod::month;
            } else {
                return std::nullopt;
            }
        } else if (word == "drop") {
            out.drop = true;
        } else if (word.starts_with("warn=")) {
            std::uint64_t warn = 0;
            for (char c : word.substr(5)) {
                if (c < '0' || c > '9' || warn > max_warn / 10) {
                    return std::nullopt;
                }
                warn = warn * 10 + static_cast<std::uint64_t>(c - '0');
            }
            out.warn = warn;
        } else if (word.starts_with('@')) {
            auto origin = counter_labels_detail::unescape(word.substr(1));
            if (!origin) {
                return std::nullopt;
            }
            out.origin = std::move(*origin);
        }
    }
    if (!named || quota_object_name(out) != name) {
        return std::nullopt;
    }
    return out;
}

// iptables (docs/iptables.md, "Quotas"): a quota is one nfacct object, charged by the one rule
// of its charge chain, whose comment says what the object is:
//     acctcq:<quota> <a limit object's comment, with warn=<bytes>>
// The object has no comment of its own; its name is the policy's and a hash (iptables_names).
inline constexpr std::string_view charge_comment_prefix = "acctcq:";
inline constexpr std::size_t iptables_comment_limit = 255; // xt_comment

inline std::string encode_charge_comment(const QuotaIdentity& identity) {
    const std::string head = std::string(charge_comment_prefix) + identity.quota + " ";
    const std::size_t room =
        iptables_comment_limit > head.size() ? iptables_comment_limit - head.size() : 0;
    return head + encode_quota_comment(identity, room);
}

// The identity a charge rule's comment gives; nothing when it is not one.
inline std::optional<QuotaIdentity> decode_charge_comment(std::string_view comment) {
    if (!comment.starts_with(charge_comment_prefix)) {
        return std::nullopt;
    }
    comment.remove_prefix(charge_comment_prefix.size());
    const std::size_t space = comment.find(' ');
    if (space == std::string_view::npos || space == 0) {
        return std::nullopt;
    }
    auto identity = decode_quota_comment(comment.substr(0, space), comment.substr(space + 1));
    if (!identity || identity->role != QuotaRole::limit) {
        return std::nullopt;
    }
    return identity;
}

} // namespace acctc
