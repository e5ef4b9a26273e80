#include "mutation_lock.hpp"

#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acctc::runtime {

MutationLock::MutationLock() {
    const std::string directory = "/run/acctc";
    if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
        throw_system_error("cannot create " + directory, errno);
    }
    const std::string path = directory + "/netns-" + std::to_string(current_netns_id()) + ".lock";
    // Never through a link (as root, that would open whatever file it names), never waiting
    // on a FIFO someone put there.
    file_ = UniqueFd(
        ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (!file_) {
        throw_system_error("cannot open " + path, errno);
    }
    struct stat info {};
    if (::fstat(file_.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        throw_system_error("cannot lock " + path + " (not a regular file)", EINVAL);
    }
    while (::flock(file_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            throw_system_error("cannot lock " + path, errno);
        }
    }
}

} // namespace acctc::runtime
