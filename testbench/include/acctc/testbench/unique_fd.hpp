// The shared owning file descriptor, and errno errors for the bench.
#pragma once

#include "acctc/unique_fd.hpp"

#include <string>
#include <system_error>

namespace acctc::testbench {

using acctc::UniqueFd;

// Throws std::system_error carrying errno and what was being attempted.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int error);

} // namespace acctc::testbench
