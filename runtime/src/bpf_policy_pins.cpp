#include "bpf_policy_pins.hpp"

#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/bpf_host_probe.hpp"
#include "acctc/runtime/errors.hpp"
#include "bpf_stale_pins.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <utility>

namespace acctc::runtime {

namespace fs = std::filesystem;

namespace {

// The link runs a program that counts nothing, one of its own: TCX takes a program once per
// device and direction.
void count_nothing(int link, const std::string& name) {
    bpf::update_link(link, bpf::pass_program(name).get());
}

// The link runs its own program again; where its device went, it is left as it is.
void count_again(const SuspendedLink& link) noexcept {
    try {
        const UniqueFd running = bpf::link_program(link.link.get());
        if (bpf::object_id(running.get()) != bpf::object_id(link.program.get())) {
            bpf::update_link(link.link.get(), link.program.get());
        }
    } catch (const std::exception&) {
        // Left counting nothing; the next apply replaces or removes it.
    }
}

// The id of what `path` pins, 0 where nothing is pinned there.
std::uint32_t pinned_id(const fs::path& path) {
    if (!fs::exists(path)) {
        return 0;
    }
    return bpf::object_id(bpf::pinned(path).get());
}

} // namespace

PolicyPins::PolicyPins(std::string policy, std::string suffix, std::string record)
    : policy_(std::move(policy)), suffix_(std::move(suffix)), record_(std::move(record)) {}

fs::path PolicyPins::dir(bool create) const {
    const fs::path ns = bpf::namespace_dir(create);
    return ns.empty() ? fs::path() : ns / (policy_ + suffix_);
}

bool PolicyPins::exists() const {
    const fs::path here = dir(false);
    return !here.empty() && fs::exists(here);
}

std::vector<fs::path> PolicyPins::entries() const {
    std::vector<fs::path> out;
    const fs::path here = dir(false);
    if (here.empty()) {
        return out;
    }
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(here, error)) {
        if (entry.is_directory()) {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

AppliedPins
PolicyPins::apply_each(const std::vector<std::string>& names, const std::string& noun,
                       const std::function<void(const fs::path&, std::size_t)>& apply) const {
    remove_stale_pins();
    AppliedPins applied;
    if (names.empty()) {
        return applied; // what is no longer planned goes in take_others
    }
    if (!exists()) {
        applied.all_ = *this;
    }
    const fs::path here = dir(true);
    for (std::size_t i = 0; i < names.size(); ++i) {
        const fs::path path = here / names[i];
        const bool existed = fs::exists(path);
        if (existed) {
            applied.before_.push_back(AppliedPins::snapshot(path));
        } else {
            applied.created_.push_back(path);
        }
        try {
            apply(path, i);
        } catch (const RuntimeError& error) {
            throw RuntimeError(error.kind(), noun + " " + names[i] + ": " + error.what());
        }
        if (existed) {
            AppliedPins::suspend_replaced(applied.before_.back());
        }
    }
    bpf::record_pins(policy_ + record_, here);
    return applied;
}

TakenPins PolicyPins::take_others(const std::vector<std::string>& keep,
                                  const std::function<void(const fs::path&)>& take) const {
    TakenPins taken;
    if (!exists()) {
        return taken;
    }
    for (const auto& path : entries()) {
        if (std::find(keep.begin(), keep.end(), path.filename().string()) == keep.end()) {
            taken.dirs_.push_back(path);
        }
    }
    if (keep.empty()) {
        taken.all_ = *this;
    }
    if (taken.dirs_.empty()) {
        return taken;
    }
    for (const auto& path : taken.dirs_) {
        for (const auto& entry : fs::directory_iterator(path)) {
            if (entry.path().filename().string().rfind("link", 0) == 0) {
                UniqueFd link = bpf::pinned(entry.path());
                UniqueFd program = bpf::link_program(link.get());
                count_nothing(link.get(), "acctc_taken");
                taken.suspended_.push_back({std::move(link), std::move(program)});
            }
        }
    }
    // Every packet the programs counted is in the maps once none still runs them.
    bpf::wait_for_running_programs();
    for (const auto& path : taken.dirs_) {
        take(path);
    }
    return taken;
}

TakenPins::TakenPins(TakenPins&& other) noexcept
    : suspended_(std::exchange(other.suspended_, {})), dirs_(std::exchange(other.dirs_, {})),
      all_(std::exchange(other.all_, std::nullopt)) {}

TakenPins& TakenPins::operator=(TakenPins&& other) noexcept {
    if (this != &other) {
        resume();
        suspended_ = std::exchange(other.suspended_, {});
        dirs_ = std::exchange(other.dirs_, {});
        all_ = std::exchange(other.all_, std::nullopt);
    }
    return *this;
}

TakenPins::~TakenPins() {
    resume();
}

void TakenPins::resume() noexcept {
    for (const SuspendedLink& link : suspended_) {
        count_again(link);
    }
    suspended_.clear();
}

void TakenPins::finish() {
    suspended_.clear();
    for (const auto& path : dirs_) {
        unpin(path);
    }
    dirs_.clear();
    if (all_) {
        all_->remove();
        all_.reset();
    }
}

AppliedPins::Before AppliedPins::snapshot(const fs::path& dir) {
    Before before{dir, {}, {}};
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_directory()) {
            continue;
        }
        const std::string name = entry.path().filename().string();
        UniqueFd object = bpf::pinned(entry.path());
        const std::uint32_t id = bpf::object_id(object.get());
        if (name.rfind("link", 0) == 0) {
            try {
                before.links.emplace_back(name, SuspendedLink{bpf::pinned(entry.path()),
                                                              bpf::link_program(object.get())});
            } catch (const RuntimeError&) {
                // A link without a program to run again (its device went): pinned back only.
            }
        }
        before.pins.push_back({name, std::move(object), id});
    }
    return before;
}

void AppliedPins::suspend_replaced(const Before& before) {
    for (const auto& [name, link] : before.links) {
        if (pinned_id(before.dir / name) != bpf::object_id(link.link.get())) {
            count_nothing(link.link.get(), "acctc_replaced");
        }
    }
}

void AppliedPins::put_back(const Before& before) {
    fs::create_directories(before.dir);
    const auto had = [&](const std::string& name) {
        return std::any_of(before.pins.begin(), before.pins.end(),
                           [&](const Pin& pin) { return pin.name == name; });
    };
    for (const auto& entry : fs::directory_iterator(before.dir)) {
        const std::string name = entry.path().filename().string();
        if (!had(name)) {
            unpin(entry.path()); // what the apply added (a new link detaches with its pin)
        }
    }
    for (const Pin& pin : before.pins) {
        const fs::path path = before.dir / pin.name;
        if (pinned_id(path) != pin.id) {
            bpf::pin_over(pin.object.get(), path);
        }
    }
    for (const auto& [name, link] : before.links) {
        count_again(link);
    }
}

AppliedPins::AppliedPins(AppliedPins&& other) noexcept
    : before_(std::exchange(other.before_, {})), created_(std::exchange(other.created_, {})),
      all_(std::exchange(other.all_, std::nullopt)) {}

AppliedPins& AppliedPins::operator=(AppliedPins&& other) noexcept {
    if (this != &other) {
        restore();
        before_ = std::exchange(other.before_, {});
        created_ = std::exchange(other.created_, {});
        all_ = std::exchange(other.all_, std::nullopt);
    }
    return *this;
}

AppliedPins::~AppliedPins() {
    restore();
}

void AppliedPins::restore() noexcept {
    for (const auto& path : created_) {
        unpin(path);
    }
    for (const Before& before : before_) {
        try {
            put_back(before);
        } catch (const std::exception&) {
            // Left as the apply made it; the next apply replaces it.
        }
    }
    if (all_) {
        try {
            all_->remove();
        } catch (const std::exception&) {
            // Left pinned; the next apply or remove takes it.
        }
    }
    finish();
}

void AppliedPins::finish() {
    before_.clear();
    created_.clear();
    all_.reset();
}

void PolicyPins::remove() const {
    remove_stale_pins();
    const fs::path here = dir(false);
    if (!here.empty()) {
        bpf::forget_pins(policy_ + record_);
        unpin(here);
        std::error_code ignored;
        fs::remove(here.parent_path(), ignored); // the namespace's, once empty
        fs::remove(here.parent_path().parent_path(), ignored);
    }
}

fs::path PolicyPins::to_read(const std::string& what) const {
    remove_stale_pins();
    if (!exists()) {
        bpf::refuse_unseen_pins(policy_ + record_, what);
        return {};
    }
    return dir(false);
}

void unpin(const fs::path& dir) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
}

unsigned bpf_link_header(const std::string& device, const std::string& counting) {
    const auto header = tcx_link_header(device);
    if (!header) {
        throw RuntimeError(ErrorKind::unsupported,
                           "cannot count " + counting + " in BPF on device " + device +
                               ": neither Ethernet nor without a link-layer header");
    }
    return *header;
}

int bpf_device_index(const std::string& device, const std::string& counting) {
    const unsigned index = ::if_nametoindex(device.c_str());
    if (index == 0) {
        throw RuntimeError(ErrorKind::rejected, "cannot count " + counting + " in BPF on device " +
                                                    device + ": " + std::strerror(errno));
    }
    return static_cast<int>(index);
}

} // namespace acctc::runtime
