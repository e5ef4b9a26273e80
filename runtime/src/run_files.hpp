// What acctc remembers about the tables of one network namespace, under /run/acctc: read only
// from regular files (never through a symbolic link, never waiting on a FIFO, never more than a
// limit), written aside and renamed. Whatever such a file says is a claim the caller checks
// against the kernel before acting on it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace acctc::runtime {

// /run/acctc/netns-cookie-<cookie> of the calling thread's namespace: keyed by the cookie,
// which the kernel never hands out twice (an inode number is reused once its namespace is
// gone, and a file left behind would describe a stranger's table). Empty when the kernel has
// no namespace cookies: then nothing is remembered.
std::string run_directory();

// A name that can be a file of the directory (not empty, no '/', not "." or "..").
bool valid_file_name(const std::string& name);
// A field of a tab-separated line of such a file: no newline, tab or NUL.
bool storable_field(const std::string& text);

// The whole file when it is a regular one of at most `limit` bytes in a directory that is not
// a link; empty otherwise (missing, a FIFO, a link, a device, too big, unreadable).
std::optional<std::string> read_run_file(const std::string& directory, const std::string& name,
                                         std::size_t limit);
// Replaces the file with `text` (creating the directory), so that a reader sees the old file
// or the new one, never half; whatever stood in its place (a link, a FIFO) is replaced, not
// followed. Failure leaves nothing behind and is not an error: the file is a cache.
void write_run_file(const std::string& directory, const std::string& name, const std::string& text);
void remove_run_file(const std::string& directory, const std::string& name);

} // namespace acctc::runtime
