#include "acctc/runtime/applied_policies.hpp"

#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "acctc/runtime/netns.hpp"

#include <algorithm>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace acctc::runtime {
namespace {

const std::filesystem::path root = "/run/acctc/applied";

// A component that is safe as one file name: no separators, no dot names.
bool usable_name(const std::string& name) {
    return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
           name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

// /run/acctc/applied/netns-<cookie>: empty when the cookie cannot be had.
std::optional<std::filesystem::path> netns_directory(const std::string& netns) {
    std::uint64_t cookie = 0;
    try {
        const NetnsScope scope(netns);
        const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return std::nullopt;
        }
        socklen_t length = sizeof cookie;
        const int status = ::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &length);
        ::close(fd);
        if (status != 0 || length != sizeof cookie) {
            return std::nullopt; // before Linux 5.14
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return root / ("netns-" + std::to_string(cookie));
}

std::vector<std::string> policies_in(const std::filesystem::path& directory) {
    std::vector<std::string> policies;
    std::error_code error;
    for (std::filesystem::directory_iterator entries(directory, error), end;
         !error && entries != end; entries.increment(error)) {
        if (entries->is_regular_file(error) && !entries->is_symlink(error)) {
            policies.push_back(entries->path().filename().string());
        }
    }
    std::sort(policies.begin(), policies.end());
    return policies;
}

// The directories of the records of `backend` (resolved_backend): its own, and for the variant
// the installed iptables is, the `iptables` one, where acctc recorded that spelling before records
// were resolved. `iptables-restore -V` (a process) is asked only where such records are.
std::vector<std::filesystem::path>
directories_for(const std::optional<std::filesystem::path>& directory, BackendKind backend) {
    std::vector<std::filesystem::path> directories;
    if (!directory) {
        return directories;
    }
    const auto resolved = resolved_backend(backend);
    directories.push_back(*directory / std::string(backend_info(resolved).name));
    const auto as_given = *directory / std::string(backend_info(BackendKind::iptables).name);
    if (iptables_variant(resolved).value_or(IptablesVariant::automatic) !=
            IptablesVariant::automatic &&
        !policies_in(as_given).empty() && resolved_backend(BackendKind::iptables) == resolved) {
        directories.push_back(as_given);
    }
    return directories;
}

std::vector<std::filesystem::path> directories_for(const std::string& netns, BackendKind backend) {
    return directories_for(netns_directory(netns), backend);
}

// Sorted, each once.
std::vector<std::string> policies_of(const std::vector<std::filesystem::path>& directories) {
    std::vector<std::string> policies;
    for (const auto& directory : directories) {
        const auto more = policies_in(directory);
        policies.insert(policies.end(), more.begin(), more.end());
    }
    std::sort(policies.begin(), policies.end());
    policies.erase(std::unique(policies.begin(), policies.end()), policies.end());
    return policies;
}

// mkdir -p DIRECTORY, each level it creates readable by everyone (0755) whatever the umask:
// the marks are read by other users too (`acctc serve` run by an unprivileged user; the
// exporter unit was once a DynamicUser), whatever umask the apply ran with. A 0700 directory
// hid every mark from it, and with them each flushed policy's acctc_policy_loaded 0.
void make_readable_directories(const std::filesystem::path& directory) {
    std::error_code error;
    if (directory.empty() || std::filesystem::is_directory(directory, error)) {
        return;
    }
    make_readable_directories(directory.parent_path());
    if (::mkdir(directory.c_str(), 0755) == 0) {
        ::chmod(directory.c_str(), 0755);
    }
}

} // namespace

void remember_applied(const std::string& netns, BackendKind given, const std::string& policy) {
    const auto directories = directories_for(netns, given);
    if (directories.empty() || !usable_name(policy)) {
        return;
    }
    make_readable_directories(directories.front());
    const auto mark = directories.front() / policy;
    const int fd = ::open(mark.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ::fchmod(fd, 0644); // whatever the umask, as the directories
        // The name the user gave, when the kernel's is another ("iptables"), for messages; a
        // later apply with the variant's name (or none) keeps it: both name the same chains.
        if (resolved_backend(given) != given) {
            const std::string_view name = backend_info(given).name;
            (void)!::write(fd, name.data(), name.size());
        }
        ::close(fd);
    }
    for (std::size_t i = 1; i < directories.size(); ++i) {
        ::unlink((directories[i] / policy).c_str()); // one record per policy and backend
    }
}

void forget_applied(const std::string& netns, BackendKind backend, const std::string& policy) {
    if (!usable_name(policy)) {
        return;
    }
    for (const auto& directory : directories_for(netns, backend)) {
        ::unlink((directory / policy).c_str());
    }
}

std::vector<std::string> applied_policies(const std::string& netns, BackendKind backend) {
    return policies_of(directories_for(netns, backend));
}

std::string applied_label(const std::string& netns, BackendKind backend,
                          const std::string& policy) {
    const auto resolved = resolved_backend(backend);
    const auto directories = directories_for(netns, backend);
    if (!usable_name(policy)) {
        return std::string(backend_info(resolved).name);
    }
    for (std::size_t i = 0; i < directories.size(); ++i) {
        std::ifstream record(directories[i] / policy);
        std::string given;
        if (record && i > 0) {
            return backend_label(BackendKind::iptables, resolved);
        }
        if (record && std::getline(record, given)) {
            if (const auto* named = backend_named(given);
                named && resolved_backend(named->kind) == resolved) {
                return backend_label(named->kind, resolved);
            }
        }
    }
    return std::string(backend_info(resolved).name);
}

std::vector<BackendKind> remembered_backends(const std::string& netns, const std::string& policy) {
    std::vector<BackendKind> found;
    if (!policy.empty() && !usable_name(policy)) {
        return found;
    }
    const auto directory = netns_directory(netns);
    for (const auto& backend : backends()) {
        // Records under `iptables` are the variant's where it resolves to one (found with it).
        const bool as_given = backend.kind == BackendKind::iptables;
        if (!directory ||
            (as_given && (policies_in(*directory / std::string(backend.name)).empty() ||
                          resolved_backend(backend.kind) != backend.kind))) {
            continue;
        }
        const auto policies = policies_of(directories_for(directory, backend.kind));
        if (policy.empty() ? !policies.empty()
                           : std::binary_search(policies.begin(), policies.end(), policy)) {
            found.push_back(backend.kind);
        }
    }
    return found;
}

std::vector<std::string> unloaded_policies(const std::string& netns, BackendKind backend_kind,
                                           Backend& backend,
                                           const std::set<std::string>& accounted) {
    std::vector<std::string> unloaded;
    for (const auto& policy : applied_policies(netns, backend_kind)) {
        if (accounted.count(policy) != 0) {
            continue;
        }
        try {
            (void)backend.counters(policy, false); // loaded, only without counters
        } catch (const RuntimeError& error) {
            if (error.kind() != ErrorKind::unknown_table) {
                throw;
            }
            unloaded.push_back(policy);
        }
    }
    return unloaded;
}

std::string not_loaded_message(const AppliedPolicy& policy, const std::string& netns) {
    const std::string where = netns.empty() ? std::string() : " in network namespace " + netns;
    if (policy.unfinished) {
        return "policy " + policy.policy + " counts nothing" + where +
               ": its apply stopped between its two steps (killed?), leaving its table with "
               "empty base chains; apply it again, or `acctc remove " +
               policy.policy + "`";
    }
    const auto& backend = backend_info(policy.backend);
    const bool nft = policy.backend == BackendKind::nftables;
    const std::string backend_option = nft ? "" : " --backend " + std::string(backend.name);
    return "policy " + policy.policy + " is not loaded" + where + ": acctc applied it here" +
           (nft ? "" : " with --backend " + applied_label(netns, policy.backend, policy.policy)) +
           ", and its " + std::string(backend.holder) +
           (backend.holder == "table" ? " is" : " are") + " gone (" + std::string(backend.flushed) +
           "?); apply it again, or `acctc remove" + backend_option + " " + policy.policy +
           "` if it should stay away";
}

} // namespace acctc::runtime
