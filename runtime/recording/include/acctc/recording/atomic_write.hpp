// Replaces a file in one rename, so readers (a web server showing the graph) never see half.
#pragma once

#include <filesystem>
#include <span>

namespace acctc::recording {

// Writes to a temporary file beside `file`, fsyncs it and renames it over `file`.
// Throws std::runtime_error; the temporary file is removed on failure.
void write_file_atomically(const std::filesystem::path& file, std::span<const unsigned char> data);

} // namespace acctc::recording
