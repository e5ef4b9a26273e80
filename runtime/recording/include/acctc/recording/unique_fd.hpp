#pragma once

#include "acctc/unique_fd.hpp"

namespace acctc::recording {
using acctc::UniqueFd;
} // namespace acctc::recording
