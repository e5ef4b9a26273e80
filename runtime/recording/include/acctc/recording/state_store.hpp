// The state directory that holds each policy's period totals (runtime/period_totals.hpp) on
// disk: one JSON file per policy, replaced atomically, changed under the directory's lock.
#pragma once

#include "acctc/recording/directory_lock.hpp"
#include "acctc/runtime/period_totals.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace acctc::recording {

inline constexpr const char* default_state_dir = "/var/lib/acctc";
inline constexpr const char* state_dir_variable = "ACCTC_STATE_DIR";

// --state-dir when given, else $ACCTC_STATE_DIR, else /var/lib/acctc.
std::filesystem::path state_dir(const std::string& given = {});

class StateStore {
  public:
    // The totals of the namespace `netns` (/run/netns/NAME; empty: the current one) under `dir`:
    // DIR/totals/POLICY.json, or DIR/netns/NAME/POLICY.json for a named namespace.
    StateStore(const std::filesystem::path& dir, const std::string& netns);

    // Creates the directory and takes its lock (DIR/.../.acctc.lock): a reading and its booking
    // by one process (a timer's save) never interleave with another's (an apply), so no delta
    // is ever booked twice. Released when the returned lock is destroyed.
    DirectoryLock lock() const;

    // The policy's totals; empty totals when it has no file yet. Throws runtime::StateError
    // naming the file when it is damaged (it is left as it is), std::runtime_error when it
    // cannot be read.
    runtime::PolicyTotals load(const std::string& policy) const;
    // The backend a file of version 1 (before each series had its backend) counted with: the
    // one acctc remembers applying the policy with here, nft when none or several are.
    runtime::BackendKind version1_backend(const std::string& policy) const;
    // Writes a temporary file, fsyncs it, renames it over the policy's file and fsyncs the
    // directory: after a crash the file holds the old totals or the new ones, never a mix.
    // `held` is this store's lock: under it, temporary files left by a writer that was killed
    // before its rename are removed (no live writer can own one).
    void save(const runtime::PolicyTotals& totals, const DirectoryLock& held) const;
    // The policies with a file, sorted.
    std::vector<std::string> policies() const;
    std::filesystem::path file_for(const std::string& policy) const;
    const std::filesystem::path& directory() const { return dir_; }

  private:
    std::filesystem::path dir_;
    std::string netns_;
};

} // namespace acctc::recording
