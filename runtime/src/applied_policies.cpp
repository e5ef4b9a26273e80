#include "acctc/runtime/applied_policies.hpp"

#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"

#include <algorithm>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
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

std::optional<std::filesystem::path> directory_for(const std::string& netns, BackendKind backend) {
    auto directory = netns_directory(netns);
    if (directory) {
        *directory /= std::string(backend_info(backend).name);
    }
    return directory;
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

void remember_applied(const std::string& netns, BackendKind backend, const std::string& policy) {
    const auto directory = directory_for(netns, backend);
    if (!directory || !usable_name(policy)) {
        return;
    }
    make_readable_directories(*directory);
    const auto mark = *directory / policy;
    const int fd = ::open(mark.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ::fchmod(fd, 0644); // whatever the umask, as the directories
        ::close(fd);
    }
}

void forget_applied(const std::string& netns, BackendKind backend, const std::string& policy) {
    const auto directory = directory_for(netns, backend);
    if (directory && usable_name(policy)) {
        ::unlink((*directory / policy).c_str());
    }
}

std::vector<std::string> applied_policies(const std::string& netns, BackendKind backend) {
    const auto directory = directory_for(netns, backend);
    return directory ? policies_in(*directory) : std::vector<std::string>{};
}

std::vector<BackendKind> remembered_backends(const std::string& netns, const std::string& policy) {
    std::vector<BackendKind> found;
    const auto directory = netns_directory(netns);
    if (!directory || (!policy.empty() && !usable_name(policy))) {
        return found;
    }
    for (const auto& backend : backends()) {
        const auto policies = policies_in(*directory / std::string(backend.name));
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
    const std::string backend_option =
        policy.backend == BackendKind::nftables ? "" : " --backend " + std::string(backend.name);
    return "policy " + policy.policy + " is not loaded" + where + ": acctc applied it here" +
           (backend_option.empty() ? "" : " with" + backend_option) + ", and its " +
           std::string(backend.holder) + (backend.holder == "table" ? " is" : " are") + " gone (" +
           std::string(backend.flushed) + "?); apply it again, or `acctc remove" + backend_option +
           " " + policy.policy + "` if it should stay away";
}

} // namespace acctc::runtime
