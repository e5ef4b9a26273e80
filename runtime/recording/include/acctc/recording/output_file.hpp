// Writes an output file (-o FILE of compile and graph) the way its target needs: a regular file
// is replaced in one rename, so readers (a web server showing the graph, a loader reading the
// ruleset) never see half; anything else (/dev/stdout, a FIFO, a device node) is written in
// place, never replaced by a regular file.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

namespace acctc::recording {

// A symlink is followed: the file it points to is what gets written (and, when regular,
// replaced), the link stays. A new or replaced regular file keeps the old file's mode and owner
// (0666 less the umask when new). A special file is opened write-only without creating it and
// written in place. Throws std::runtime_error naming the file and the errno text (e.g. "No
// space left on device"); a temporary file is removed on failure.
void write_output_file(const std::filesystem::path& file, std::span<const unsigned char> data);
void write_output_file(const std::filesystem::path& file, std::string_view text);

} // namespace acctc::recording
