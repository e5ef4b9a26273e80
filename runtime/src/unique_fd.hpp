#pragma once

#include "acctc/unique_fd.hpp"

namespace acctc::runtime {
using acctc::UniqueFd;
} // namespace acctc::runtime
