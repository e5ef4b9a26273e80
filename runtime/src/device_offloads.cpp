#include "acctc/runtime/device_offloads.hpp"

#include "acctc/runtime/netns.hpp"
#include "acctc/runtime/network_devices.hpp"
#include "bpf_wire.hpp"
#include "unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <set>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace acctc::runtime {
namespace {

std::optional<std::uint32_t> ethtool_get(int fd, const std::string& device, std::uint32_t cmd) {
    ::ethtool_value value{};
    value.cmd = cmd;
    ifreq request{};
    std::strncpy(request.ifr_name, device.c_str(), IFNAMSIZ - 1);
    request.ifr_data = reinterpret_cast<char*>(&value);
    if (::ioctl(fd, SIOCETHTOOL, &request) != 0) {
        return std::nullopt;
    }
    return value.data;
}

} // namespace

bool ReceiveOffloadResolver::merged(const std::vector<std::string>& patterns) {
    if (last_ && last_->first == patterns) {
        return last_->second;
    }
    if (!merging_) {
        merging_.emplace();
        const auto devices = network_devices(netns_);
        const NetnsScope scope(netns_);
        for (const auto& device : devices) {
            const auto offloads = device == "lo" ? std::nullopt : read_receive_offloads(device);
            if (offloads && (offloads->gro || offloads->lro)) {
                merging_->push_back(device);
            }
        }
    }
    const bool merged =
        patterns.empty() ? !merging_->empty()
                         : std::any_of(patterns.begin(), patterns.end(),
                                       [&](const auto& p) { return names_a_device(p, *merging_); });
    last_.emplace(patterns, merged);
    return merged;
}

bool ReceiveOffloadResolver::merged(
    const std::shared_ptr<const std::vector<std::string>>& devices) {
    if (!list_asked_ || devices != last_list_) {
        static const std::vector<std::string> none;
        last_list_merged_ = merged(devices ? *devices : none);
        last_list_ = devices;
        list_asked_ = true;
    }
    return last_list_merged_;
}

void resolve_receive_offloads(std::vector<CounterReading>& readings, const std::string& netns) {
    ReceiveOffloadResolver resolver(netns);
    for (auto& reading : readings) {
        CounterSample& sample = reading.sample;
        if (sample.wire.has(WireDifference::receive_offload) &&
            !resolver.merged(sample.what().devices)) {
            sample.wire.remove(WireDifference::receive_offload);
        }
    }
}

std::optional<ReceiveOffloads> read_receive_offloads(const std::string& device) {
    if (device.size() >= IFNAMSIZ) {
        return std::nullopt;
    }
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        return std::nullopt;
    }
    const auto gro = ethtool_get(fd.get(), device, ETHTOOL_GGRO);
    if (!gro) {
        return std::nullopt;
    }
    const auto flags = ethtool_get(fd.get(), device, ETHTOOL_GFLAGS);
    return ReceiveOffloads{*gro != 0, flags && (*flags & ETH_FLAG_LRO) != 0};
}

std::vector<std::string> receive_offload_notes(const CompiledPolicy& policy,
                                               const std::string& netns) {
    NetnsScope scope(netns);
    std::vector<std::string> notes;
    // Counters whose merged packets BPF corrects now count what the wire carried.
    std::set<std::string> corrected;
    if (!corrected_counters(policy.policy_name).empty()) {
        for (const auto& name : policy.bpf_wire.declared) {
            corrected.insert("counter " + name);
        }
    }
    for (const auto& use : policy.devices) {
        std::string counters;
        for (const auto& user : use.users) {
            if (!user.name.starts_with("counter ") && !user.name.starts_with("classify ")) {
                continue; // verdicts count nothing
            }
            if (corrected.contains(user.name)) {
                continue;
            }
            counters += (counters.empty() ? "" : ", ") + user.name;
        }
        if (use.device.ends_with('*') || counters.empty()) {
            continue; // a wildcard names no device to ask
        }
        const auto offloads = read_receive_offloads(use.device);
        if (!offloads || (!offloads->gro && !offloads->lro)) {
            continue;
        }
        const std::string what =
            offloads->lro ? "large-receive-offload" : "generic-receive-offload";
        notes.push_back("note: " + use.device + " has " + what + " on: " + counters +
                        " count what arrives there as merged packets (consecutive TCP segments, "
                        "up to 64 KB with one set of headers), fewer packets and fewer header "
                        "bytes than the wire carried; 'ethtool -K " +
                        use.device +
                        " gro off lro off' makes them count segments (docs/counting.md)");
    }
    return notes;
}

} // namespace acctc::runtime
