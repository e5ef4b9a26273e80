#include "check_hosts.hpp"

#include <charconv>
#include <string>

namespace acctc {

namespace {

std::optional<std::uint64_t> decimal(const std::string& text) {
    std::uint64_t value = 0;
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

ir::HostSide side_of(const std::string& word) {
    if (word == "source") {
        return ir::HostSide::source;
    }
    if (word == "destination") {
        return ir::HostSide::destination;
    }
    return word == "local" ? ir::HostSide::local : ir::HostSide::remote;
}

} // namespace

std::optional<ir::HostSplit> read_host_split(const ast::SplitHostClause& clause, Diagnostics& diag,
                                             const NetworkResolver& resolve) {
    ir::HostSplit split;
    split.range = clause.range;
    bool ok = true;
    unsigned prefixes = 0;
    const ast::Item* size_item = nullptr;
    for (const ast::Item& item : clause.items) {
        if (item.protocol.empty()) {
            split.side = side_of(item.text);
        } else if (item.protocol == "/") {
            // The first length is IPv4's, the second IPv6's: `/24 /64`.
            const bool v6 = prefixes == 1;
            const unsigned width = v6 ? 128 : 32;
            const auto length = decimal(item.text);
            if (prefixes >= 2) {
                diag.error(item.range,
                           "at most two prefix lengths: the IPv4 one, then the IPv6 one");
                ok = false;
            } else if (!length || *length == 0 || *length > width) {
                diag.error(item.range, std::string(v6 ? "IPv6" : "IPv4") + " prefix length /" +
                                           item.text + " is out of range: 1.." +
                                           std::to_string(width) +
                                           (v6 ? "" : " (the first length is IPv4's)"));
                ok = false;
            } else if (v6) {
                split.v6_prefix = static_cast<unsigned>(*length);
            } else {
                split.v4_prefix = static_cast<unsigned>(*length);
            }
            ++prefixes;
        } else if (item.protocol == "within") {
            split.within = true;
            ok = resolve(item, split.v4, split.v6) && ok;
        } else if (item.protocol == "size") {
            if (size_item != nullptr) {
                auto& error = diag.error(item.range, "size is given twice");
                error.notes.push_back({size_item->range, "first given here"});
                ok = false;
                continue;
            }
            size_item = &item;
            const auto size = decimal(item.text);
            if (!size || *size == 0 || *size > max_host_set_size) {
                diag.error(item.range, "a host set holds 1.." + std::to_string(max_host_set_size) +
                                           " addresses (the kernel's bound), not " + item.text);
                ok = false;
            } else {
                split.size = static_cast<std::uint32_t>(*size);
            }
        }
    }
    if (!ok) {
        return std::nullopt;
    }
    return split;
}

void check_host_split(const ir::Counter& counter, SourceRange split_range, Diagnostics& diag) {
    const ir::HostSplit& host = *counter.host;
    const bool relative = host.side == ir::HostSide::local || host.side == ir::HostSide::remote;
    if (relative && (counter.match.scopes & ir::scope_forward) && counter.match.via.empty()) {
        diag.error(split_range, "split host local/remote of forwarded traffic needs 'via': "
                                "without an interface no side of the router is local; write "
                                "'via IF' or split host source/destination");
    }
    if (counter.splits_by(ir::Split::protocol) || counter.splits_by(ir::Split::type)) {
        diag.error(split_range, "split host cannot be combined with split protocol or split type "
                                "yet; write one counter per protocol");
    }
    if (host.within && host.v4.empty() && host.v6.empty()) {
        diag.error(split_range, "split host within: the networks hold no address, so no address "
                                "identifies a host");
    }
    // Traffic of one family only: a `within` of the other family leaves nothing to count.
    const bool v4_only = counter.match.icmp && !counter.match.icmp->v6;
    const bool v6_only = counter.match.icmp && counter.match.icmp->v6;
    if (host.within && ((v4_only && host.v4.empty()) || (v6_only && host.v6.empty()))) {
        diag.error(split_range, std::string("split host within: the counter counts only ") +
                                    (v4_only ? "IPv4" : "IPv6") +
                                    " and none of these networks are, so no address identifies a "
                                    "host");
    }
}

} // namespace acctc
