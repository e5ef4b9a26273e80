#include "bpf_nft_carry.hpp"

#include "acctc/kernel_jhash.hpp"
#include "counter_relabel.hpp"
#include "nft_counter_read.hpp"
#include "nft_element_carry.hpp"
#include "nft_element_counters.hpp"
#include "nft_host_counters.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <set>

namespace acctc::runtime {
namespace {

std::string address_text(const BpfHostCount& host) {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(host.ipv6 ? AF_INET6 : AF_INET, host.address.data(), text, sizeof text);
    return text;
}

// The parts the definition declares for a host set: 0 for one set NAME, K for NAME_p0 ..
// _p<K-1>, none (-1) when it declares neither.
int declared_parts(const std::string& definition, const std::string& set) {
    if (definition.find("\tset " + set + " {") != std::string::npos) {
        return 0;
    }
    int parts = 0;
    while (definition.find("\tset " + set + "_p" + std::to_string(parts) + " {") !=
           std::string::npos) {
        ++parts;
    }
    return parts == 0 ? -1 : parts;
}

// Puts `packets N bytes M` into the declaration of counter `name`; false when it has none.
bool with_counter_values(std::string& commit, const std::string& name, std::uint64_t packets,
                         std::uint64_t bytes) {
    const std::string declared = "\tcounter " + name + " {\n";
    const std::size_t at = commit.find(declared);
    if (at == std::string::npos) {
        return false;
    }
    commit.insert(at + declared.size(), "\t\tpackets " + std::to_string(packets) + " bytes " +
                                            std::to_string(bytes) + "\n");
    return true;
}

} // namespace

std::map<std::string, BpfHostCounts> nft_hosts_for_bpf(NftNetlink& netlink,
                                                       const std::string& table,
                                                       const std::vector<std::string>& moving) {
    std::map<std::string, BpfHostCounts> out;
    if (moving.empty()) {
        return out;
    }
    const std::set<std::string> wanted(moving.begin(), moving.end());
    const auto moving_set = [&](const std::string& set) {
        return wanted.count(host_counter_name(set)) != 0;
    };
    for (const auto& set : dump_host_counters(netlink, table, false, moving_set)) {
        auto& counts = out[host_counter_name(set.set)];
        for (const auto& element : set.hosts) {
            if (element.key_size != 4 && element.key_size != 16) {
                continue;
            }
            BpfHostCount host;
            host.ipv6 = element.key_size == 16;
            std::copy_n(element.key.begin(), element.key_size, host.address.begin());
            host.packets = element.packets;
            host.bytes = element.bytes;
            counts.hosts.push_back(host);
        }
    }
    for (const auto& counter : read_table_counters(netlink, table, false)) {
        const std::string suffix = "_overflow";
        if (counter.name.ends_with(suffix)) {
            const std::string name = counter.name.substr(0, counter.name.size() - suffix.size());
            if (wanted.count(name) != 0) {
                out[name].overflow_packets += counter.packets;
                out[name].overflow_bytes += counter.bytes;
            }
        }
    }
    return out;
}

std::string with_hosts_from_bpf(std::string commit, const std::string& definition,
                                const std::string& table,
                                const std::map<std::string, BpfHostCounts>& taken,
                                HostsCarried& carried) {
    carried = {};
    std::string elements;
    for (const auto& [counter, counts] : taken) {
        const std::string v4 = counter + "_hosts_v4";
        const std::string v6 = counter + "_hosts_v6";
        const int parts_v4 = declared_parts(definition, v4);
        const int parts_v6 = declared_parts(definition, v6);
        if (parts_v4 < 0 && parts_v6 < 0) {
            if (!counts.hosts.empty() || counts.overflow_packets != 0) {
                carried.dropped.push_back(counter);
            }
            continue;
        }
        carried.moved.push_back(counter);
        // Per set (or part) its elements, in one `add element` each.
        std::map<std::string, std::string> lists;
        for (const auto& host : counts.hosts) {
            const int parts = host.ipv6 ? parts_v6 : parts_v4;
            if (parts < 0) {
                continue; // a family the counter no longer counts (within)
            }
            std::string set = host.ipv6 ? v6 : v4;
            if (parts > 0) {
                // nft's `jhash ip saddr mod K seed 0x0` over the address as it lies in the packet.
                set += "_p" + std::to_string(nft_jhash(host.address.data(), host.ipv6 ? 16 : 4, 0,
                                                       static_cast<std::uint32_t>(parts)));
            }
            std::string& list = lists[set];
            list += (list.empty() ? "" : ", ") + address_text(host) + " counter packets " +
                    std::to_string(host.packets) + " bytes " + std::to_string(host.bytes);
        }
        for (const auto& [set, list] : lists) {
            elements += "add element inet " + table + " " + set + " { " + list + " }\n";
        }
        if ((counts.overflow_packets != 0 || counts.overflow_bytes != 0) &&
            !with_counter_values(commit, counter + "_overflow", counts.overflow_packets,
                                 counts.overflow_bytes)) {
            carried.dropped.push_back(counter + "_overflow");
        }
    }
    return commit + elements;
}

std::string with_classes_from_bpf(std::string commit, const std::string& table,
                                  const std::vector<CompiledPolicy::ElementSet>& sets,
                                  const std::map<std::string, std::string>& set_names,
                                  const std::map<std::string, TakenClass>& taken,
                                  std::set<std::string>& carried) {
    std::map<std::string, CounterValues> values;
    for (const auto& [name, counts] : taken) {
        values[name] = {counts.counts.packets, counts.counts.bytes};
    }
    commit = with_values(commit, values, carried);
    std::string starts;
    // The classes counted by elements: each one's first element starts with its counts.
    for (const auto& set : sets) {
        const auto named = set_names.find(set.name);
        const std::string& in_commit = named == set_names.end() ? set.name : named->second;
        for (const auto& element : set.elements) {
            const auto found = taken.find(element.counter);
            if (found == taken.end() || carried.count(element.counter) != 0) {
                continue;
            }
            carried.insert(element.counter);
            const BpfClassCounts& counts = found->second.counts;
            const std::string key = key_text(element.key, set.types);
            if ((counts.packets == 0 && counts.bytes == 0) || key.empty() ||
                !quotable(element.comment)) {
                continue; // nothing to carry, or it starts at zero as before
            }
            const std::string where = " inet " + table + " " + in_commit + " { " + key;
            starts += "delete element" + where + " }\n";
            starts += "add element" + where + " counter packets " + std::to_string(counts.packets) +
                      " bytes " + std::to_string(counts.bytes) + " comment \"" + element.comment +
                      "\" }\n";
        }
    }
    return commit + starts;
}

} // namespace acctc::runtime
