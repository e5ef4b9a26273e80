#include "bpf_policy_classes.hpp"

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/errors.hpp"
#include "bpf_policy_pins.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <unistd.h>

namespace acctc::runtime {
namespace {

namespace fs = std::filesystem;

// `info`: text in an mmapable array of pages, written anew by each apply and pinned in place of
// the old one (a reader opens one or the other, whole).
constexpr std::uint32_t info_page = 4096;

struct ClassEntry {
    std::uint32_t index = 0;
    std::string counter;
    std::string comment;
};

struct Info {
    std::string layout; // device hook forwarded
    std::vector<ClassEntry> classes;
};

std::string layout_of(const BpfClassifyPlan& plan) {
    return plan.device + (plan.hook == BpfHook::ingress ? " ingress" : " egress") +
           (plan.forwarded_only ? " forwarded" : " all");
}

std::string encoded(const Info& info) {
    std::string out = info.layout + "\n";
    for (const auto& entry : info.classes) {
        out += std::to_string(entry.index) + " " + entry.counter + " " + entry.comment + "\n";
    }
    return out;
}

Info decoded(std::string_view text) {
    Info info;
    std::size_t at = text.find('\n');
    info.layout = std::string(text.substr(0, at));
    while (at != std::string_view::npos && at + 1 < text.size()) {
        const std::size_t start = at + 1;
        at = text.find('\n', start);
        const std::string_view line =
            text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start);
        const std::size_t space = line.find(' ');
        const std::size_t second = line.find(' ', space + 1);
        if (space == std::string_view::npos || second == std::string_view::npos) {
            continue;
        }
        ClassEntry entry;
        entry.index = static_cast<std::uint32_t>(std::stoul(std::string(line.substr(0, space))));
        entry.counter = std::string(line.substr(space + 1, second - space - 1));
        entry.comment = std::string(line.substr(second + 1));
        info.classes.push_back(std::move(entry));
    }
    return info;
}

std::optional<Info> read_info(const fs::path& dir) {
    if (!fs::exists(dir / "info")) {
        return std::nullopt;
    }
    const UniqueFd map = bpf::pinned(dir / "info");
    const bpf::MappedArray text(map.get(), std::size_t{bpf::map_entries(map.get())} * info_page);
    const char* begin = reinterpret_cast<const char*>(text.data());
    return decoded(std::string_view(begin, ::strnlen(begin, text.size())));
}

// Pinned over the old one (bpf::pin_over): a reader never sees half an info.
void write_info(const fs::path& dir, const Info& info) {
    const std::string text = encoded(info);
    const auto pages = static_cast<std::uint32_t>(text.size() / info_page + 1);
    const UniqueFd map =
        bpf::create_map({BPF_MAP_TYPE_ARRAY, 4, info_page, pages, BPF_F_MMAPABLE, "acctc_info"});
    {
        const bpf::MappedArray mapped(map.get(), std::size_t{pages} * info_page);
        std::memcpy(mapped.data(), text.data(), text.size());
    }
    bpf::pin_over(map.get(), dir / "info");
}

// The policy's classifications' pins: <policy>+classes/ (bpf_policy_pins.hpp).
PolicyPins pins_of(const std::string& policy) {
    return PolicyPins(policy, "+classes", ".bpf-classes");
}

// Each class keeps the index it has (its counts with it); a new one gets an index no class had
// before this apply, so that no packet still adds to it, and starts from `carried` or zero.
Info indexed(const BpfClassifyPlan& plan, const std::optional<Info>& old,
             const std::map<std::string, BpfClassCounts>& carried, BpfClassCounter& counter) {
    std::map<std::string, std::uint32_t> had;
    std::set<std::uint32_t> taken;
    if (old) {
        for (const auto& entry : old->classes) {
            had[entry.counter] = entry.index;
            taken.insert(entry.index);
        }
    }
    Info info{layout_of(plan), {}};
    std::map<std::uint32_t, BpfClassCounts> starts;
    std::uint32_t next = 1;
    for (const auto& cls : plan.classes) {
        const auto kept = had.find(cls.counter);
        if (kept != had.end()) {
            info.classes.push_back({kept->second, cls.counter, cls.comment});
            continue;
        }
        while (taken.count(next) != 0) {
            ++next;
        }
        if (next >= BpfClassCounter::capacity) {
            throw RuntimeError(ErrorKind::rejected, "too many classes for BPF");
        }
        const auto start = carried.find(cls.counter);
        starts[next] = start == carried.end() ? BpfClassCounts{} : start->second;
        info.classes.push_back({next, cls.counter, cls.comment});
        taken.insert(next);
    }
    counter.start(starts);
    return info;
}

// The class index owning each slot: the plan's first-match partition, `otherwise` the rest.
std::vector<std::uint32_t> slot_owners(const BpfClassifyPlan& plan, const Info& info) {
    std::vector<std::uint32_t> owners(BpfPortSlots::count, 0);
    std::uint32_t otherwise = 0;
    for (std::size_t i = 0; i < plan.classes.size(); ++i) {
        const BpfClass& cls = plan.classes[i];
        if (cls.otherwise) {
            otherwise = info.classes[i].index;
            continue;
        }
        for (const auto& range : cls.ports) {
            const std::size_t base = range.protocol == 6 ? BpfPortSlots::tcp : BpfPortSlots::udp;
            for (std::size_t port = range.first; port <= range.last; ++port) {
                if (owners[base + port] == 0) {
                    owners[base + port] = info.classes[i].index;
                }
            }
        }
    }
    if (otherwise != 0) {
        std::replace(owners.begin(), owners.end(), std::uint32_t{0}, otherwise);
    }
    return owners;
}

// Where the program finds a class: a new array of slot owners (ports) or a new map of the
// plan's prefixes (addresses), which `held` keeps open until the program holds it.
BpfClassLookup lookup_of(const BpfClassifyPlan& plan, const Info& info, UniqueFd& held) {
    BpfClassLookup lookup;
    lookup.key = plan.key;
    if (plan.key == BpfKey::destination_port) {
        held = bpf_slot_owners(slot_owners(plan, info), lookup);
        return lookup;
    }
    std::vector<std::pair<BpfPrefix, std::uint32_t>> prefixes;
    for (std::size_t i = 0; i < plan.classes.size(); ++i) {
        if (plan.classes[i].otherwise) {
            lookup.otherwise = info.classes[i].index;
        }
        for (const BpfPrefix& prefix : plan.classes[i].prefixes) {
            prefixes.emplace_back(prefix, info.classes[i].index);
        }
    }
    held = bpf_prefix_owners(prefixes, lookup);
    return lookup;
}

// Counts one planned classification in `dir` (made where missing).
void apply_classify(const fs::path& dir, const BpfClassifyPlan& plan,
                    const std::map<std::string, BpfClassCounts>& carried) {
    const unsigned header = bpf_link_header(plan.device, "classes");
    fs::create_directories(dir);
    BpfClassCounter counter = BpfClassCounter::pinned(dir, true);
    const auto old = read_info(dir);
    const Info info = indexed(plan, old, carried, counter);
    write_info(dir, info);
    UniqueFd owners;
    const BpfClassLookup lookup = lookup_of(plan, info, owners);
    const UniqueFd program = counter.program(lookup, header, plan.forwarded_only);
    if (fs::exists(dir / "link") && old && old->layout == info.layout) {
        bpf::update_link(bpf::pinned(dir / "link").get(), program.get());
    } else {
        // Another device or hook: the new link first, then the old one counts nothing
        // (PolicyPins::apply_each).
        const UniqueFd link = bpf::attach_tcx(
            program.get(), bpf_device_index(plan.device, "classes"), plan.hook == BpfHook::ingress);
        bpf::pin_over(link.get(), dir / "link");
    }
    std::error_code ignored;
    fs::remove(dir / "owners", ignored); // the slot owners an earlier version pinned
}

} // namespace

AppliedPins apply_bpf_classes(const std::string& policy, const std::vector<BpfClassifyPlan>& plan,
                              const std::map<std::string, BpfClassCounts>& carried) {
    std::vector<std::string> names;
    for (const auto& classify : plan) {
        names.push_back(classify.classify);
    }
    return pins_of(policy).apply_each(
        names, "classification",
        [&](const fs::path& dir, std::size_t i) { apply_classify(dir, plan[i], carried); });
}

TakenClasses take_bpf_classes(const std::string& policy, const std::vector<BpfClassifyPlan>& plan) {
    TakenClasses out;
    std::vector<std::string> keep;
    for (const auto& classify : plan) {
        keep.push_back(classify.classify);
    }
    out.pins = pins_of(policy).take_others(keep, [&](const fs::path& path) {
        if (const auto info = read_info(path)) {
            const auto counts = BpfClassCounter::pinned(path, false).read();
            for (const auto& entry : info->classes) {
                out.classes[entry.counter] = {counts[entry.index], entry.comment,
                                              path.filename().string()};
            }
        }
    });
    return out;
}

void remove_bpf_classes(const std::string& policy) {
    pins_of(policy).remove();
}

std::vector<std::string> bpf_class_counters(const std::string& policy) {
    std::vector<std::string> out;
    for (const auto& path : pins_of(policy).entries()) {
        if (const auto info = read_info(path)) {
            for (const auto& entry : info->classes) {
                out.push_back(entry.counter);
            }
        }
    }
    return out;
}

std::vector<CounterReading> read_bpf_classes(const std::string& policy, bool reset) {
    std::vector<CounterReading> out;
    const PolicyPins pins = pins_of(policy);
    if (pins.to_read("the classes of policy " + policy + " counted in BPF count in").empty()) {
        return out;
    }
    for (const auto& path : pins.entries()) {
        const auto info = read_info(path);
        if (!info) {
            continue;
        }
        BpfClassCounter counter = BpfClassCounter::pinned(path, false);
        const auto counts = reset ? counter.read_and_reset() : counter.read();
        for (const auto& entry : info->classes) {
            const BpfClassCounts& held = counts[entry.index];
            out.push_back(reading_of(policy, entry.counter, held.packets, held.bytes,
                                     decode_counter_comment(entry.counter, entry.comment)));
        }
    }
    return out;
}

} // namespace acctc::runtime
