// Where a counter's RRD lives and what its data sources are called; pure and deterministic.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace acctc::recording {

// rrdtool limits data-source names to 19 characters of [A-Za-z0-9_].
inline constexpr std::size_t max_ds_name_length = 19;
// Room left for the stem once "_bytes" (the longer suffix) is appended.
inline constexpr std::size_t max_ds_stem_length = max_ds_name_length - 6;

// The counter name when it is short and valid (skype_tcp_in), otherwise its first 8 valid
// characters, '_' and 4 hex digits of a hash of the whole name (link_use_3f0a).
std::string ds_stem(std::string_view counter);
std::string bytes_ds_name(std::string_view counter);   // <stem>_bytes, like the seed's tcp_in_bytes
std::string packets_ds_name(std::string_view counter); // <stem>_pkts

// Percent-encodes anything but [A-Za-z0-9_-] and non-leading dots, so any name is one path
// component; decode_file_component reverses it and throws std::invalid_argument on bad escapes.
std::string encode_file_component(std::string_view name);
std::string decode_file_component(std::string_view component);

// DIR/<policy>/<counter>.rrd
std::filesystem::path rrd_path(const std::filesystem::path& dir, std::string_view policy,
                               std::string_view counter);
std::filesystem::path policy_dir(const std::filesystem::path& dir, std::string_view policy);

} // namespace acctc::recording
