#include "bpf_policy_hosts.hpp"

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/bpf_host_counter.hpp"
#include "acctc/runtime/errors.hpp"
#include "bpf_policy_pins.hpp"
#include "unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <net/if.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace acctc::runtime {
namespace {

namespace fs = std::filesystem;

// The pinned one-element array holding what a counter's directory counts, as text: the layout
// its maps were made for (a reload keeps them only for the same) and the comments its readings
// decode labels from (no policy file needed to read).
constexpr std::uint32_t info_size = 1024;

struct Info {
    std::string layout; // device hook key size
    std::string comment;
    std::string overflow_comment;
};

std::string layout_of(const BpfHostCounterPlan& counter) {
    std::string out = counter.device + (counter.hook == BpfHook::ingress ? " ingress" : " egress") +
                      (counter.key == BpfAddress::source ? " source " : " destination ") +
                      std::to_string(counter.size);
    if (counter.within) {
        // Another `within` is another layout (whose maps start with the old counts): its ranges
        // by an FNV-1a hash, so that many networks fit the info map's element.
        std::uint64_t hash = 0xcbf29ce484222325ULL;
        const auto add = [&](std::uint64_t value) {
            for (int byte = 0; byte < 8; ++byte) {
                hash = (hash ^ ((value >> (8 * byte)) & 0xff)) * 0x100000001b3ULL;
            }
        };
        for (const auto* ranges : {&counter.within_v4, &counter.within_v6}) {
            add(ranges->size());
            for (const auto& range : *ranges) {
                add(range.lo_high), add(range.lo_low), add(range.hi_high), add(range.hi_low);
            }
        }
        char text[32];
        std::snprintf(text, sizeof text, " within %016llx", static_cast<unsigned long long>(hash));
        out += text;
    }
    // Added only where they differ from the whole address and every protocol, so that the
    // layouts of maps pinned before them read the same.
    if (counter.v4_prefix != 32 || counter.v6_prefix != 128) {
        out += " prefix /" + std::to_string(counter.v4_prefix) + " /" +
               std::to_string(counter.v6_prefix);
    }
    if (counter.protocol) {
        out += " protocol " + std::to_string(*counter.protocol);
    }
    if (counter.egress_key) {
        out += *counter.egress_key == BpfAddress::source ? " and egress source"
                                                         : " and egress destination";
    }
    return out;
}

std::string encoded(const Info& info) {
    return info.layout + "\n" + info.comment + "\n" + info.overflow_comment + "\n";
}

Info decoded(const std::string& text) {
    std::istringstream in(text);
    Info info;
    std::getline(in, info.layout);
    std::getline(in, info.comment);
    std::getline(in, info.overflow_comment);
    return info;
}

std::optional<Info> read_info(const fs::path& dir) {
    if (!fs::exists(dir / "info")) {
        return std::nullopt;
    }
    const UniqueFd map = bpf::pinned(dir / "info");
    const auto element = bpf::read_map(map.get(), 4, info_size);
    if (element.count == 0) {
        return std::nullopt;
    }
    const char* text = reinterpret_cast<const char*>(element.values.data());
    return decoded(std::string(text, ::strnlen(text, info_size)));
}

// A new map pinned over the old one: an apply that fails puts the old one back
// (PolicyPins::apply_each).
void write_info(const fs::path& dir, const Info& info) {
    const std::string text = encoded(info);
    if (text.size() >= info_size) {
        throw RuntimeError(ErrorKind::rejected, "bpf counter description too long: " + text);
    }
    const UniqueFd map = bpf::create_map({BPF_MAP_TYPE_ARRAY, 4, info_size, 1, 0, "acctc_info"});
    std::vector<char> value(info_size, 0);
    std::memcpy(value.data(), text.data(), text.size());
    const std::uint32_t key = 0;
    bpf::update_element(map.get(), &key, value.data());
    bpf::pin_over(map.get(), dir / "info");
}

// The policy's host counters' pins: <policy>/ (bpf_policy_pins.hpp).
PolicyPins pins_of(const std::string& policy) {
    return PolicyPins(policy, "", ".bpf-hosts");
}

BpfHostKey key_of(BpfAddress key) {
    return key == BpfAddress::source ? BpfHostKey::source : BpfHostKey::destination;
}

// A counter of both directions: the egress program's link beside `link` (the ingress one's).
constexpr const char* egress_link = "link_egress";

// Counts one planned counter in `dir`, a new one starting from `carried` (what nft's sets
// held).
void apply_counter(const fs::path& dir, const BpfHostCounterPlan& counter,
                   const BpfHostCounts* carried) {
    const std::string layout = layout_of(counter);
    const unsigned header = bpf_link_header(counter.device, "per host");
    // Another device, hook, key or size: new maps, which start with what the old ones held.
    std::optional<BpfHostCounts> relaid;
    if (const auto info = read_info(dir); info && info->layout != layout) {
        relaid = BpfHostCounter::pinned(dir, 1, BpfHostKey::source, false).read();
        unpin(dir);
        carried = &*relaid;
    }
    const bool created = !fs::exists(dir);
    fs::create_directories(dir);
    const auto program = [&](BpfAddress key, BpfHook hook) {
        return BpfHostCounter::pinned(
            dir, counter.size, key_of(key), true, header,
            {counter.within, hook == BpfHook::egress && counter.forwarded_only, counter.within_v4,
             counter.within_v6, counter.v4_prefix, counter.v6_prefix, counter.protocol});
    };
    BpfHostCounter counting = program(counter.key, counter.hook);
    if (created && carried != nullptr) {
        // Before the program counts there; hosts of another prefix summed into this one's.
        counting.carry(to_prefixes(*carried, counter.v4_prefix, counter.v6_prefix));
    }
    write_info(dir, {layout, counter.comment, counter.overflow_comment});
    const int device = bpf_device_index(counter.device, "per host");
    counting.attach_pinned(dir / "link", device, counter.hook == BpfHook::ingress);
    if (counter.egress_key) { // the other direction, in the same maps
        program(*counter.egress_key, BpfHook::egress)
            .attach_pinned(dir / egress_link, device, false);
    }
}

} // namespace

AppliedPins apply_bpf_hosts(const std::string& policy, const std::vector<BpfHostCounterPlan>& plan,
                            const std::map<std::string, BpfHostCounts>& carried) {
    std::vector<std::string> names;
    for (const auto& counter : plan) {
        names.push_back(counter.counter);
    }
    return pins_of(policy).apply_each(
        names, "per-host counter", [&](const fs::path& dir, std::size_t i) {
            const auto start = carried.find(plan[i].counter);
            apply_counter(dir, plan[i], start == carried.end() ? nullptr : &start->second);
        });
}

TakenHosts take_bpf_hosts(const std::string& policy, const std::vector<BpfHostCounterPlan>& plan) {
    TakenHosts out;
    std::vector<std::string> keep;
    for (const auto& counter : plan) {
        keep.push_back(counter.counter);
    }
    out.pins = pins_of(policy).take_others(keep, [&](const fs::path& path) {
        if (read_info(path)) {
            out.counts[path.filename().string()] =
                BpfHostCounter::pinned(path, 1, BpfHostKey::source, false).read();
        }
    });
    return out;
}

void remove_bpf_hosts(const std::string& policy) {
    pins_of(policy).remove();
}

BpfHostReadings read_bpf_hosts(const std::string& policy, bool reset) {
    BpfHostReadings out;
    const PolicyPins pins = pins_of(policy);
    if (pins.to_read("the per-host counters of policy " + policy + " count in").empty()) {
        return out;
    }
    for (const auto& path : pins.entries()) {
        const auto info = read_info(path);
        if (!info) {
            continue;
        }
        const std::string counter = path.filename().string();
        BpfHostCounter maps = BpfHostCounter::pinned(path, 1, BpfHostKey::source, false);
        const BpfHostCounts counts = reset ? maps.read_and_delete() : maps.read();
        KernelHostSet v4{counter + "_hosts_v4", info->comment, {}};
        KernelHostSet v6{counter + "_hosts_v6", info->comment, {}};
        for (const auto& host : counts.hosts) {
            HostElement element;
            element.key_size = host.ipv6 ? 16 : 4;
            std::copy_n(host.address.begin(), element.key_size, element.key.begin());
            element.packets = host.packets;
            element.bytes = host.bytes;
            (host.ipv6 ? v6 : v4).hosts.push_back(element);
        }
        out.sets.push_back(std::move(v4));
        out.sets.push_back(std::move(v6));
        const std::string overflow = counter + "_overflow";
        out.overflows.push_back(
            reading_of(policy, overflow, counts.overflow_packets, counts.overflow_bytes,
                       decode_counter_comment(overflow, info->overflow_comment)));
    }
    return out;
}

} // namespace acctc::runtime
