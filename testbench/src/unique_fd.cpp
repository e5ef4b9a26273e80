#include "acctc/testbench/unique_fd.hpp"

#include <cerrno>

namespace acctc::testbench {

void throw_errno(const std::string& what) {
    throw_errno(what, errno);
}

void throw_errno(const std::string& what, int error) {
    throw std::system_error(error, std::generic_category(), what);
}

} // namespace acctc::testbench
