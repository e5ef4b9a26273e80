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
    file_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!file_) {
        throw_system_error("cannot open " + path, errno);
    }
    while (::flock(file_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            throw_system_error("cannot lock " + path, errno);
        }
    }
}

} // namespace acctc::runtime
