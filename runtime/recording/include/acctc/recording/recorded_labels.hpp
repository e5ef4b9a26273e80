// A recorded counter's family and dimension labels beside its RRD, so `acctc graph` places and
// pairs series by their direction dimension without the kernel or the policy, one line
// (counter_labels.hpp):   DIR/<policy>/<counter>.labels   "acctc1 f=<n> direction=in ...\n"
#pragma once

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/counter_sample.hpp"

#include <filesystem>
#include <string_view>

namespace acctc::recording {

std::filesystem::path labels_path(const std::filesystem::path& dir, std::string_view policy,
                                  std::string_view counter);

// Writes the sample's labels unless the file already holds them. Throws std::runtime_error.
void remember_labels(const std::filesystem::path& dir, const runtime::CounterSample& sample);

// What remember_labels stored; family = counter and no labels when nothing was (recordings made
// before labels existed: such a series is drawn above the axis, whatever its name says).
CounterIdentity recorded_identity(const std::filesystem::path& dir, std::string_view policy,
                                  std::string_view counter);

} // namespace acctc::recording
