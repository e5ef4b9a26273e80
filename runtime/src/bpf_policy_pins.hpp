// Where one kind of a policy's BPF objects is pinned (docs/runtime.md, "Per-host counters in
// BPF", "Classes in BPF"): <root>/acctc/<netns cookie>/<policy><suffix>/, a subdirectory per
// thing counted (a counter, a classification) with its maps and link, and a record of that
// directory under /run/acctc for readers that do not see the pins (bpf::record_pins).
#pragma once

#include "acctc/unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctc::runtime {

class AppliedPins;
class TakenPins;

class PolicyPins {
  public:
    // suffix: after the policy's name in the directory's ("" or "+classes": a policy name has
    // no `+`, and bpffs refuses names with a dot); record: the record's file name after the
    // policy's (".bpf-hosts", ...).
    PolicyPins(std::string policy, std::string suffix, std::string record);

    // The policy's directory here; empty where no bpffs is mounted (with `create` an error).
    std::filesystem::path dir(bool create) const;
    bool exists() const;
    // Its subdirectories, sorted; none where it does not exist.
    std::vector<std::filesystem::path> entries() const;

    // Applies each of `names` in its subdirectory: `apply(path, i)` makes it or changes it in
    // place. What was pinned there before is held by the AppliedPins: finish() once what goes
    // with the change is committed; should this call or that commit fail, they put it back.
    // The pins are recorded. An error names the one that failed after `noun`.
    AppliedPins
    apply_each(const std::vector<std::string>& names, const std::string& noun,
               const std::function<void(const std::filesystem::path&, std::size_t)>& apply) const;
    // Each subdirectory not named in `keep` has its links (pins named link...) switched to a
    // program that counts nothing, and once no packet still runs the old ones, is handed to
    // `take` (which reads its counts). The TakenPins unpin them (and with nothing kept the
    // policy's directory) on finish(), or count again.
    TakenPins take_others(const std::vector<std::string>& keep,
                          const std::function<void(const std::filesystem::path&)>& take) const;
    // Everything of the policy's: the programs detach, the maps go with their last reference.
    void remove() const;
    // The directory to read, or empty where nothing is pinned here: then, where the record says
    // pins exist that this process does not see, an error naming `what` counts there.
    std::filesystem::path to_read(const std::string& what) const;

  private:
    std::string policy_;
    std::string suffix_;
    std::string record_;
};

struct SuspendedLink {
    UniqueFd link;
    UniqueFd program; // the link's own, to run again
};

// What PolicyPins::take_others took: directories still pinned whose links run a program that
// counts nothing, so their counts hold still. finish() unpins them, once what carries their counts
// elsewhere is committed; destroyed unfinished (that commit failed), each link runs its own
// program again and counts on from where it stood (only the packets in between are lost).
class TakenPins {
  public:
    TakenPins() = default;
    TakenPins(TakenPins&& other) noexcept;
    TakenPins& operator=(TakenPins&& other) noexcept; // what this held counts again first
    TakenPins(const TakenPins&) = delete;
    TakenPins& operator=(const TakenPins&) = delete;
    ~TakenPins();
    void finish();

  private:
    friend class PolicyPins;
    void resume() noexcept;
    std::vector<SuspendedLink> suspended_;
    std::vector<std::filesystem::path> dirs_;
    std::optional<PolicyPins> all_; // removed whole by finish(), when nothing is kept
};

// What PolicyPins::apply_each changed, and what was pinned before. finish() lets the old go:
// maps no pin names any more are freed, links no pin names any more detach. Destroyed
// unfinished (the apply or the commit that goes with it failed), every directory is as it was:
// one the apply made is unpinned; in another each name pins its old object again (the apply's
// new ones go, an old link with them), and each link runs its old program again. The counts
// stay those of the maps, which apply in place: only the packets in between count otherwise.
class AppliedPins {
  public:
    AppliedPins() = default;
    AppliedPins(AppliedPins&& other) noexcept;
    AppliedPins& operator=(AppliedPins&& other) noexcept; // what this held is put back first
    AppliedPins(const AppliedPins&) = delete;
    AppliedPins& operator=(const AppliedPins&) = delete;
    ~AppliedPins();
    void finish();

  private:
    friend class PolicyPins;
    struct Pin {
        std::string name;
        UniqueFd object;
        std::uint32_t id = 0;
    };
    struct Before {
        std::filesystem::path dir;
        std::vector<Pin> pins;
        // Each link pinned, by its pin's name, with the program it ran.
        std::vector<std::pair<std::string, SuspendedLink>> links;
    };
    static Before snapshot(const std::filesystem::path& dir);
    // After the apply: an old link whose name now pins another counts nothing meanwhile (both
    // may see a packet, and count it in the same maps).
    static void suspend_replaced(const Before& before);
    static void put_back(const Before& before);
    void restore() noexcept;
    std::vector<Before> before_;
    std::vector<std::filesystem::path> created_;
    std::optional<PolicyPins> all_; // removed whole, when the apply made the policy's directory
};

// Unpins a directory of pins: its links detach (once no descriptor holds them), its maps go.
void unpin(const std::filesystem::path& dir);

// The bytes before the IP header where a TCX program on the device sees a packet
// (tcx_link_header); an error naming what would count there where the program knows none.
unsigned bpf_link_header(const std::string& device, const std::string& counting);

// The index of a device of the calling thread's namespace; an error naming what would count
// there ("per host", "classes") where there is none.
int bpf_device_index(const std::string& device, const std::string& counting);

} // namespace acctc::runtime
