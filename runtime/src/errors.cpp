#include "acctc/runtime/errors.hpp"

#include <cerrno>
#include <cstring>

namespace acctc::runtime {

void throw_system_error(const std::string& what, int error) {
    const std::string reason = std::strerror(error);
    switch (error) {
    case EPERM:
    case EACCES:
        throw RuntimeError(ErrorKind::permission,
                           what + ": " + reason + " (acctc needs CAP_NET_ADMIN; run it as root)");
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
        throw RuntimeError(ErrorKind::unsupported,
                           what + ": " + reason + " (the kernel has no nf_tables support)");
    default:
        throw RuntimeError(ErrorKind::system, what + ": " + reason);
    }
}

} // namespace acctc::runtime
