#include "bpf_wire.hpp"

#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/errors.hpp"
#include "bpf_wire_program.hpp"
#include "unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <net/if.h>
#include <unistd.h>

namespace acctc::runtime {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t name_size = 256; // nft object names are shorter

// bpffs holds no files: which backend the pins correct is an empty directory owner-<backend>.
constexpr std::string_view owner_prefix = "owner-";

// The backend the policy's pins in `dir` correct; none for pins made before it was recorded
// (or none at all).
std::optional<BackendKind> owner_of(const fs::path& dir) {
    std::error_code ignored;
    for (fs::directory_iterator entries(dir, ignored), end; !ignored && entries != end;
         entries.increment(ignored)) {
        const std::string name = entries->path().filename().string();
        if (name.starts_with(owner_prefix)) {
            if (const auto* backend = backend_named(name.substr(owner_prefix.size()))) {
                return backend->kind;
            }
        }
    }
    return std::nullopt;
}

// Pins of the policy that another backend made: not `backend`'s to change, read or remove.
bool held_by_other(const fs::path& dir, BackendKind backend) {
    if (dir.empty()) {
        return false;
    }
    const auto owner = owner_of(dir);
    return owner && *owner != backend;
}

std::string owner_entry(BackendKind backend) {
    return std::string(owner_prefix) + std::string(backend_info(backend).name);
}

// The record of where the policy's correction is pinned (bpf::record_pins).
std::string pins_record(const std::string& policy) {
    return policy + ".wire";
}

// <namespace dir>/+wire/<policy>: no policy is named "+wire" (bpffs refuses a '.' in names).
fs::path policy_dir(const std::string& policy) {
    const fs::path ns = bpf::namespace_dir(false);
    return ns.empty() ? fs::path() : ns / "+wire" / policy;
}

// A quota slot as the `quotas` map holds it (bpf_wire.hpp, WireQuotaState).
struct QuotaRecord {
    char name[name_size]; // "" when free
    std::uint64_t limit;
    std::uint64_t warn;
    std::uint64_t base; // the slot's bytes when the quota's period began
};

// The policy's maps, opened from their pins or created and pinned.
struct WireMaps {
    UniqueFd counts;
    UniqueFd generation;
    UniqueFd names;
    UniqueFd quota_counts;
    UniqueFd quotas;
    std::uint32_t value_size = 0; // of a counts element: one WireCounts per possible CPU

    static WireMaps open(const fs::path& dir, bool create) {
        const auto one = [&](const std::string& name, const bpf::MapSpec& spec) {
            const fs::path path = dir / name;
            if (!create && name.starts_with("quota") && !fs::exists(path)) {
                return UniqueFd(); // pinned by an acctc before quotas were corrected
            }
            if (fs::exists(path) || !create) {
                return bpf::pinned(path);
            }
            UniqueFd map = bpf::create_map(spec);
            bpf::pin(map.get(), path);
            return map;
        };
        WireMaps maps;
        maps.counts = one("counts", {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(WireCounts),
                                     2 * wire_slots, 0, "acctc_wire"});
        maps.generation = one("generation", {BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "acctc_wire_gen"});
        maps.names =
            one("names", {BPF_MAP_TYPE_ARRAY, 4, name_size, wire_slots, 0, "acctc_wire_names"});
        maps.quota_counts = one("quota_counts", {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(WireCounts),
                                                 wire_quota_slots, 0, "acctc_wire_q"});
        maps.quotas = one("quotas", {BPF_MAP_TYPE_ARRAY, 4, sizeof(QuotaRecord), wire_quota_slots,
                                     0, "acctc_wire_qrec"});
        maps.value_size = static_cast<std::uint32_t>(sizeof(WireCounts) * bpf::possible_cpus());
        return maps;
    }

    // Slot -> name, "" for a free slot.
    std::vector<std::string> slot_names() const {
        std::vector<std::string> out(wire_slots);
        const auto elements = bpf::read_map(names.get(), 4, name_size);
        for (std::size_t i = 0; i < elements.count; ++i) {
            std::uint32_t slot = 0;
            std::memcpy(&slot, elements.keys.data() + i * 4, 4);
            const char* text =
                reinterpret_cast<const char*>(elements.values.data() + i * name_size);
            if (slot < wire_slots) {
                out[slot] = std::string(text, ::strnlen(text, name_size));
            }
        }
        return out;
    }

    void set_name(std::uint32_t slot, const std::string& name) const {
        std::vector<char> value(name_size, 0);
        std::memcpy(value.data(), name.data(), std::min<std::size_t>(name.size(), name_size - 1));
        bpf::update_element(names.get(), &slot, value.data());
    }

    void zero(std::uint32_t key) const {
        const std::vector<std::uint8_t> zero(value_size, 0);
        bpf::update_element(counts.get(), &key, zero.data());
    }

    std::uint32_t current() const {
        const auto element = bpf::read_map(generation.get(), 4, 4);
        std::uint32_t value = 0;
        if (element.count > 0) {
            std::memcpy(&value, element.values.data(), sizeof value);
        }
        return value & 1;
    }

    // Quota slot -> its record (a free one named "").
    std::vector<QuotaRecord> quota_records() const {
        std::vector<QuotaRecord> out(wire_quota_slots, QuotaRecord{});
        const auto elements = bpf::read_map(quotas.get(), 4, sizeof(QuotaRecord));
        for (std::size_t i = 0; i < elements.count; ++i) {
            std::uint32_t slot = 0;
            std::memcpy(&slot, elements.keys.data() + i * 4, 4);
            if (slot < wire_quota_slots) {
                std::memcpy(&out[slot], elements.values.data() + i * sizeof(QuotaRecord),
                            sizeof(QuotaRecord));
                out[slot].name[name_size - 1] = 0;
            }
        }
        return out;
    }

    // Per key: the sum over CPUs (of `counts`, or of `quota_counts`).
    std::vector<WireCounts> totals(bool of_quotas = false) const {
        std::vector<WireCounts> out(of_quotas ? wire_quota_slots : 2 * wire_slots,
                                    WireCounts{0, 0});
        const auto elements =
            bpf::read_map(of_quotas ? quota_counts.get() : counts.get(), 4, value_size);
        for (std::size_t i = 0; i < elements.count; ++i) {
            std::uint32_t key = 0;
            std::memcpy(&key, elements.keys.data() + i * 4, 4);
            for (std::uint32_t at = 0; at < value_size; at += sizeof(WireCounts)) {
                WireCounts one{};
                std::memcpy(&one, elements.values.data() + i * value_size + at, sizeof one);
                if (key < out.size()) {
                    out[key].packets += one.packets;
                    out[key].bytes += one.bytes;
                }
            }
        }
        return out;
    }
};

// bpffs refuses a '.' in a name (eth0.100, a VLAN): %2e for it, %25 for '%'.
std::string link_name(const WireHook& hook) {
    std::string out;
    for (const char c : hook.device) {
        out += c == '.' ? "%2e" : c == '%' ? "%25" : std::string(1, c);
    }
    return out + (hook.ingress ? "_in" : "_out");
}

// Each planned counter's slot: the one it had, or a free one (whose old counts are zeroed).
std::vector<std::uint32_t> assign_slots(const WireMaps& maps, const BpfWirePlan& plan) {
    std::vector<std::string> names = maps.slot_names();
    std::vector<std::uint32_t> slot_of(plan.counters.size(), wire_slots);
    std::vector<bool> kept(wire_slots, false);
    for (std::size_t c = 0; c < plan.counters.size(); ++c) {
        const auto it = std::find(names.begin(), names.end(), plan.counters[c]);
        if (it != names.end()) {
            slot_of[c] = static_cast<std::uint32_t>(it - names.begin());
            kept[slot_of[c]] = true;
        }
    }
    // Slots of counters no longer planned are free again.
    for (std::uint32_t slot = 0; slot < wire_slots; ++slot) {
        if (!kept[slot] && !names[slot].empty()) {
            maps.set_name(slot, "");
            maps.zero(slot);
            maps.zero(slot + wire_slots);
            names[slot].clear();
        }
    }
    std::uint32_t next = 0;
    for (std::size_t c = 0; c < plan.counters.size(); ++c) {
        if (slot_of[c] != wire_slots) {
            continue;
        }
        while (next < wire_slots && !names[next].empty()) {
            ++next;
        }
        if (next == wire_slots) {
            throw RuntimeError(ErrorKind::unsupported,
                               "more than " + std::to_string(wire_slots) +
                                   " counters to correct for merged packets");
        }
        slot_of[c] = next;
        names[next] = plan.counters[c];
        maps.set_name(next, plan.counters[c]);
    }
    return slot_of;
}

// Each planned quota's slot, kept by name as counters' are (and so its correction across
// reloads); a new one starts from its slot's count, a slot no longer planned is freed.
std::vector<std::uint32_t> assign_quota_slots(const WireMaps& maps, const BpfWirePlan& plan) {
    std::vector<QuotaRecord> records = maps.quota_records();
    const std::vector<WireCounts> totals = maps.totals(true);
    std::vector<std::uint32_t> slot_of(plan.quotas.size(), wire_quota_slots);
    std::vector<bool> kept(wire_quota_slots, false);
    for (std::size_t q = 0; q < plan.quotas.size(); ++q) {
        for (std::uint32_t slot = 0; slot < wire_quota_slots; ++slot) {
            if (plan.quotas[q].name == records[slot].name) {
                slot_of[q] = slot;
                kept[slot] = true;
            }
        }
    }
    std::uint32_t next = 0;
    for (std::size_t q = 0; q < plan.quotas.size(); ++q) {
        std::uint32_t& slot = slot_of[q];
        if (slot == wire_quota_slots) {
            while (next < wire_quota_slots && (kept[next] || records[next].name[0] != 0)) {
                ++next;
            }
            if (next == wire_quota_slots) {
                throw RuntimeError(ErrorKind::unsupported,
                                   "more than " + std::to_string(wire_quota_slots) +
                                       " quotas on counters corrected for merged packets");
            }
            slot = next;
            kept[slot] = true;
            records[slot] = QuotaRecord{};
            std::memcpy(records[slot].name, plan.quotas[q].name.data(),
                        std::min<std::size_t>(plan.quotas[q].name.size(), name_size - 1));
            records[slot].base = totals[slot].bytes;
        }
        records[slot].limit = plan.quotas[q].limit;
        records[slot].warn = plan.quotas[q].warn;
        bpf::update_element(maps.quotas.get(), &slot, &records[slot]);
    }
    for (std::uint32_t slot = 0; slot < wire_quota_slots; ++slot) {
        if (!kept[slot] && records[slot].name[0] != 0) {
            const QuotaRecord free{};
            bpf::update_element(maps.quotas.get(), &slot, &free);
        }
    }
    return slot_of;
}

void attach(const fs::path& path, int program, const std::string& device, bool ingress) {
    if (fs::exists(path)) {
        const UniqueFd link = bpf::pinned(path);
        try {
            bpf::update_link(link.get(), program);
            return;
        } catch (const RuntimeError&) {
            // The device went (ENOLINK): a new link below.
        }
        fs::remove(path);
    }
    const unsigned index = ::if_nametoindex(device.c_str());
    if (index == 0) {
        throw RuntimeError(ErrorKind::unsupported,
                           "device " + device + ": " + std::strerror(errno));
    }
    const UniqueFd link = bpf::attach_tcx(program, static_cast<int>(index), ingress);
    bpf::pin(link.get(), path);
}

} // namespace

void refuse_wire_of_other_backend(const std::string& netns, const std::string& policy,
                                  const BpfWirePlan& plan, BackendKind backend) {
    const fs::path dir = policy_dir(policy);
    if (plan.empty() || !held_by_other(dir, backend)) {
        return;
    }
    const std::string other(backend_info(*owner_of(dir)).name);
    throw RuntimeError(ErrorKind::rejected,
                       "error: policy " + policy + " is applied here with " +
                           applied_label(netns, *owner_of(dir), policy) +
                           ", whose correction of merged packets is pinned under " + dir.string() +
                           ", once per network namespace and policy: a second backend would "
                           "correct its counters with the same pins, and either's remove would "
                           "take them from the other; remove it there first (acctc remove "
                           "--backend " +
                           other + " " + policy + ")");
}

void apply_bpf_wire(const std::string& policy, const BpfWirePlan& plan, BackendKind backend,
                    bool counters_new) {
    if (plan.empty()) {
        remove_bpf_wire(policy, backend);
        return;
    }
    // No bpffs is mounted for it: the host has none at /sys/fs/bpf (systemd mounts one), and
    // the correction is no reason to mount one behind the administrator's back.
    const fs::path dir = policy_dir(policy);
    if (dir.empty()) {
        throw RuntimeError(ErrorKind::unsupported,
                           "no bpffs mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)");
    }
    if (held_by_other(dir, backend)) {
        // refuse_wire_of_other_backend() said so before the apply changed anything.
        throw RuntimeError(ErrorKind::unsupported,
                           "they are pinned for " + std::string(backend_info(*owner_of(dir)).name) +
                               " (" + dir.string() + ")");
    }
    fs::create_directories(dir);
    fs::create_directory(dir / owner_entry(backend));
    const WireMaps maps = WireMaps::open(dir, true);
    const std::vector<std::uint32_t> slot_of = assign_slots(maps, plan);
    if (counters_new) {
        // A flushed table took its counters; the corrections of the same names, pinned, did not.
        for (const std::uint32_t slot : slot_of) {
            maps.zero(slot);
            maps.zero(slot + wire_slots);
        }
    }
    const std::vector<std::uint32_t> quota_slot_of = assign_quota_slots(maps, plan);
    std::vector<WireSlots> slots(plan.counters.size());
    for (std::size_t c = 0; c < slots.size(); ++c) {
        slots[c].counter = slot_of[c];
    }
    for (std::size_t q = 0; q < plan.quotas.size(); ++q) {
        for (const std::size_t c : plan.quotas[q].counters) {
            slots.at(c).quotas.push_back(quota_slot_of[q]);
        }
    }
    const WireProgramMaps program_maps{maps.counts.get(), maps.generation.get(), wire_slots,
                                       maps.quota_counts.get()};
    std::map<std::string, int> ifindex;
    for (const auto& hook : plan.hooks) {
        for (const auto& rule : hook.rules) {
            for (const auto& device : rule.not_arrived_via) {
                if (const unsigned index = ::if_nametoindex(device.c_str()); index != 0) {
                    ifindex[device] = static_cast<int>(index);
                }
            }
        }
    }
    std::set<std::string> links;
    for (const auto& hook : plan.hooks) {
        const std::string name = link_name(hook);
        const UniqueFd program =
            bpf::load_sched_cls(wire_program(hook, slots, program_maps, ifindex), "acctc_wire");
        attach(dir / name, program.get(), hook.device, hook.ingress);
        links.insert(name);
    }
    // Links of hooks no longer planned detach once unpinned.
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        const bool map = name == "counts" || name == "generation" || name == "names" ||
                         name == "quota_counts" || name == "quotas";
        if (!map && !links.contains(name) && name != owner_entry(backend)) {
            fs::remove(entry.path());
        }
    }
    bpf::record_pins(pins_record(policy), dir);
}

std::optional<std::string> apply_wire_correction(const std::string& policy, const BpfWirePlan& plan,
                                                 BackendKind backend, bool counters_new) {
    try {
        apply_bpf_wire(policy, plan, backend, counters_new);
        return std::nullopt;
    } catch (const std::exception& error) {
        try {
            remove_bpf_wire(policy, backend);
        } catch (const std::exception&) {
            // What could not be made cannot be removed either.
        }
        return error.what();
    }
}

void remove_bpf_wire(const std::string& policy, BackendKind backend) {
    const fs::path dir = policy_dir(policy);
    if (dir.empty()) {
        return; // pins this process cannot see stay, and so does their record
    }
    if (held_by_other(dir, backend)) {
        return;
    }
    bpf::forget_pins(pins_record(policy));
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    // +wire, the namespace's directory and acctc's, each once empty.
    for (fs::path up = dir.parent_path(); up.has_relative_path() && up.filename() != "";
         up = up.parent_path()) {
        if (!fs::remove(up, ignored) || up.filename() == "acctc") {
            break;
        }
    }
}

std::set<std::string> corrected_counters(const std::string& policy) {
    const fs::path dir = policy_dir(policy);
    std::set<std::string> out;
    if (dir.empty() || !fs::exists(dir / "names")) {
        return out;
    }
    const WireMaps maps = WireMaps::open(dir, false);
    for (auto& name : maps.slot_names()) {
        if (!name.empty()) {
            out.insert(std::move(name));
        }
    }
    return out;
}

void add_wire_corrections(const std::string& policy, BackendKind backend, bool reset,
                          std::vector<CounterReading>& readings) {
    const fs::path dir = policy_dir(policy);
    if (held_by_other(dir, backend)) {
        return;
    }
    if (dir.empty() || !fs::exists(dir / "names")) {
        // Uncorrected counts are lower: never report them while the correction counts elsewhere.
        bpf::refuse_unseen_pins(pins_record(policy),
                                "the counters of policy " + policy + " are corrected by");
        return;
    }
    const WireMaps maps = WireMaps::open(dir, false);
    const std::vector<std::string> names = maps.slot_names();
    std::vector<WireCounts> totals;
    std::uint32_t old = 0;
    if (reset) {
        // Count in the other generation from now on; once no program still runs that read the
        // old number, the old generation is final: read and zero it.
        old = maps.current();
        const std::uint32_t next = 1 - old;
        const std::uint32_t key = 0;
        bpf::update_element(maps.generation.get(), &key, &next);
        bpf::wait_for_running_programs();
    }
    totals = maps.totals();
    std::map<std::string, WireCounts, std::less<>> by_name;
    for (std::uint32_t slot = 0; slot < wire_slots; ++slot) {
        if (names[slot].empty()) {
            continue;
        }
        // Both generations: the other one holds nothing but what came after the last reset.
        WireCounts sum = reset
                             ? totals[old * wire_slots + slot]
                             : WireCounts{totals[slot].packets + totals[slot + wire_slots].packets,
                                          totals[slot].bytes + totals[slot + wire_slots].bytes};
        by_name[names[slot]] = sum;
        if (reset) {
            maps.zero(old * wire_slots + slot);
        }
    }
    for (auto& reading : readings) {
        const auto it = by_name.find(reading.sample.counter);
        if (it == by_name.end()) {
            continue;
        }
        reading.sample.packets += it->second.packets;
        reading.sample.bytes += it->second.bytes;
        reading.sample.wire.remove(WireDifference::segmentation_offload);
        reading.sample.wire.remove(WireDifference::receive_offload);
    }
}

} // namespace acctc::runtime

namespace acctc::runtime {

std::vector<std::string> wire_policies() {
    const fs::path ns = bpf::namespace_dir(false);
    std::vector<std::string> out;
    std::error_code ignored;
    if (ns.empty() || !fs::is_directory(ns / "+wire", ignored)) {
        return out;
    }
    for (const auto& entry : fs::directory_iterator(ns / "+wire", ignored)) {
        out.push_back(entry.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<WireQuotaState> wire_quotas(const std::string& policy) {
    const fs::path dir = policy_dir(policy);
    std::vector<WireQuotaState> out;
    if (dir.empty() || !fs::exists(dir / "quotas")) {
        return out;
    }
    const WireMaps maps = WireMaps::open(dir, false);
    const std::vector<QuotaRecord> records = maps.quota_records();
    const std::vector<WireCounts> totals = maps.totals(true);
    for (std::uint32_t slot = 0; slot < wire_quota_slots; ++slot) {
        const QuotaRecord& record = records[slot];
        if (record.name[0] != 0) {
            // Unsigned: a slot's count only grows, and its base is a count it had.
            out.push_back({record.name, record.limit, record.warn,
                           totals[slot].bytes - std::min(record.base, totals[slot].bytes)});
        }
    }
    return out;
}

std::optional<std::uint64_t> restart_wire_quota(const std::string& policy,
                                                const std::string& quota) {
    const fs::path dir = policy_dir(policy);
    if (dir.empty() || !fs::exists(dir / "quotas")) {
        return std::nullopt;
    }
    const WireMaps maps = WireMaps::open(dir, false);
    std::vector<QuotaRecord> records = maps.quota_records();
    const std::vector<WireCounts> totals = maps.totals(true);
    for (std::uint32_t slot = 0; slot < wire_quota_slots; ++slot) {
        QuotaRecord& record = records[slot];
        if (record.name[0] != 0 && quota == record.name) {
            // The base moves to the count read: what comes after counts in the new period, and
            // nothing is lost to a read-then-zero race with the programs.
            const std::uint64_t held =
                totals[slot].bytes - std::min(record.base, totals[slot].bytes);
            record.base = totals[slot].bytes;
            bpf::update_element(maps.quotas.get(), &slot, &record);
            return held;
        }
    }
    return std::nullopt;
}

} // namespace acctc::runtime
