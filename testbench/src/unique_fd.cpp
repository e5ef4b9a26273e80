#include "acctc/testbench/unique_fd.hpp"

#include <cerrno>
#include <unistd.h>

namespace acctc::testbench {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

void throw_errno(const std::string& what) {
    throw_errno(what, errno);
}

void throw_errno(const std::string& what, int error) {
    throw std::system_error(error, std::generic_category(), what);
}

} // namespace acctc::testbench
