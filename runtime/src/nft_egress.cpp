#include "nft_egress.hpp"

#include "acctc/runtime/errors.hpp"
#include "nft_counter_dump.hpp"
#include "unique_fd.hpp"

#include <cstring>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <map>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace acctc::runtime {
namespace {

constexpr std::string_view comment_prefix = "acctc-egress";
constexpr std::string_view header_key = " l2=";

// The device of an egress table: its name after "egress_", '/'-escapes undone (naming.hpp).
std::string device_of(const std::string& table) {
    const auto at = table.rfind(".egress_");
    const std::string escaped = table.substr(at + 8);
    std::string device;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '/' && i + 2 < escaped.size()) {
            device.push_back(static_cast<char>(std::stoi(escaped.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else {
            device.push_back(escaped[i]);
        }
    }
    return device;
}

// The header length recorded in an egress counter's comment, else the device's now.
std::optional<unsigned> recorded_header(const KernelCounter& counter) {
    const auto at = counter.comment.find(header_key);
    if (at != std::string::npos) {
        return static_cast<unsigned>(std::stoul(counter.comment.substr(at + header_key.size())));
    }
    return link_header_length(device_of(counter.table));
}

} // namespace

std::vector<std::string> egress_tables(NftNetlink& netlink, const std::string& table) {
    return table_names(netlink, NFPROTO_NETDEV, table + ".egress_");
}

std::optional<unsigned> link_header_length(const std::string& device) {
    const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    if (!fd || device.size() >= IFNAMSIZ) {
        return std::nullopt;
    }
    std::strncpy(request.ifr_name, device.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd.get(), SIOCGIFHWADDR, &request) != 0) {
        return std::nullopt;
    }
    // Measured at egress on this kernel: skb->len there holds what the device's header_ops
    // pushed (Ethernet's 14 bytes, the loopback's too); devices without header_ops start at
    // the IP header.
    switch (request.ifr_hwaddr.sa_family) {
    case ARPHRD_ETHER:
    case ARPHRD_LOOPBACK:
        return 14;
    case ARPHRD_NONE:
    case ARPHRD_PPP:
    case ARPHRD_RAWIP:
        return 0;
    default:
        return std::nullopt;
    }
}

std::uint64_t wire_bytes(std::uint64_t counted, std::uint64_t packets, unsigned header) {
    const std::uint64_t headers = packets * header;
    return counted > headers ? counted - headers : 0;
}

std::string egress_transaction(NftNetlink& netlink, const std::string& table,
                               const std::vector<CompiledPolicy::Egress>& wanted) {
    const std::vector<std::string> existing = egress_tables(netlink, table);
    std::string text;
    for (const auto& egress : wanted) {
        std::string definition = egress.definition;
        const std::string plain = "comment \"" + std::string(comment_prefix) + "\"";
        if (const auto header = link_header_length(egress.device)) {
            const std::string recorded = "comment \"" + std::string(comment_prefix) +
                                         std::string(header_key) + std::to_string(*header) + "\"";
            for (auto at = definition.find(plain); at != std::string::npos;
                 at = definition.find(plain, at + recorded.size())) {
                definition.replace(at, plain.size(), recorded);
            }
        } else if (if_nametoindex(egress.device.c_str()) != 0) {
            throw RuntimeError(ErrorKind::unsupported,
                               "device " + egress.device +
                                   ": acctc cannot tell the length of the link-layer header "
                                   "its egress hook counts (not Ethernet, loopback, PPP or "
                                   "without a header), so it cannot count what leaves via it "
                                   "as the wire carries it");
        } // a missing device: its type is read when its counters are (recorded_header)
        const std::string family_table = "netdev " + egress.table;
        text += "table " + family_table + "\nflush table " + family_table + "\n" + definition;
    }
    for (const auto& name : existing) {
        bool kept = false;
        for (const auto& egress : wanted) {
            kept = kept || egress.table == name;
        }
        if (!kept) {
            text += "delete table netdev " + name + "\n";
        }
    }
    return text;
}

std::string egress_cleanup(NftNetlink& netlink, const std::vector<CompiledPolicy::Egress>& wanted) {
    std::string text;
    for (const auto& egress : wanted) {
        for (const auto& counter : dump_counters(netlink, egress.table, false, NFPROTO_NETDEV)) {
            if (egress.definition.find("\tcounter " + counter.name + " {") == std::string::npos) {
                text += "delete counter netdev " + egress.table + " " + counter.name + "\n";
            }
        }
    }
    return text;
}

std::string egress_removal(NftNetlink& netlink, const std::string& table, const char* verb) {
    std::string text;
    for (const auto& name : egress_tables(netlink, table)) {
        text += std::string(verb) + " table netdev " + name + "\n";
    }
    return text;
}

void add_egress_counts(NftNetlink& netlink, const std::string& table, bool reset,
                       std::vector<CounterReading>& readings) {
    const std::vector<std::string> tables = egress_tables(netlink, table);
    if (tables.empty()) {
        return;
    }
    std::map<std::string, CounterReading*> by_name;
    for (auto& reading : readings) {
        by_name.emplace(reading.sample.counter, &reading);
    }
    // One dump per table: a reset touches only acctc's own.
    for (const auto& name : tables) {
        std::map<std::string, unsigned> headers;
        for (const auto& counter : dump_counters(netlink, name, reset, NFPROTO_NETDEV)) {
            const auto reading = by_name.find(counter.name);
            if (reading == by_name.end()) {
                continue; // not (or no longer) a counter of the policy
            }
            const std::optional<unsigned> header = recorded_header(counter);
            CounterSample& sample = reading->second->sample;
            sample.packets += counter.packets;
            sample.bytes += wire_bytes(counter.bytes, counter.packets, header.value_or(0));
        }
    }
}

} // namespace acctc::runtime
