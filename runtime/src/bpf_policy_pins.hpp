// Where one kind of a policy's BPF objects is pinned (docs/runtime.md, "Per-host counters in
// BPF", "Classes in BPF"): <root>/acctc/<netns cookie>/<policy><suffix>/, a subdirectory per
// thing counted (a counter, a classification) with its maps and link, and a record of that
// directory under /run/acctc for readers that do not see the pins (bpf::record_pins).
#pragma once

#include "acctc/unique_fd.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

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

    // Applies each of `names` in its subdirectory: `apply(path, i)` returns whether it made the
    // directory. On failure what this call made is unpinned again (everything, when nothing is
    // left) and the error goes on; else the pins are recorded.
    void
    apply_each(const std::vector<std::string>& names,
               const std::function<bool(const std::filesystem::path&, std::size_t)>& apply) const;
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
    struct Suspended {
        UniqueFd link;
        UniqueFd program; // the link's own, to run again
    };
    std::vector<Suspended> suspended_;
    std::vector<std::filesystem::path> dirs_;
    std::optional<PolicyPins> all_; // removed whole by finish(), when nothing is kept
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
