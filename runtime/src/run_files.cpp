#include "run_files.hpp"

#include "acctc/runtime/netns.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace acctc::runtime {
namespace {

// The directory itself, not a symbolic link in its place.
UniqueFd open_directory(const std::string& directory) {
    return UniqueFd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool write_all(int file, const std::string& text) {
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t put = ::write(file, text.data() + written, text.size() - written);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put <= 0) {
            return false;
        }
        written += static_cast<std::size_t>(put);
    }
    return true;
}

} // namespace

std::string run_directory() {
    const auto cookie = current_netns_cookie();
    return cookie ? "/run/acctc/netns-cookie-" + std::to_string(*cookie) : std::string();
}

bool valid_file_name(const std::string& name) {
    return !name.empty() && name.find('/') == std::string::npos &&
           name.find('\0') == std::string::npos && name != "." && name != "..";
}

bool storable_field(const std::string& text) {
    return text.find_first_of(std::string("\n\t\0", 3)) == std::string::npos;
}

std::optional<std::string> read_run_file(const std::string& directory, const std::string& name,
                                         std::size_t limit) {
    if (directory.empty() || !valid_file_name(name)) {
        return std::nullopt;
    }
    const UniqueFd folder = open_directory(directory);
    if (!folder) {
        return std::nullopt;
    }
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    const UniqueFd file(
        ::openat(folder.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat info {};
    if (!file || ::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode) ||
        static_cast<std::uint64_t>(info.st_size) > limit) {
        return std::nullopt;
    }
    std::string text(static_cast<std::size_t>(info.st_size) + 1, '\0');
    std::size_t length = 0;
    while (length < text.size()) {
        const ssize_t got = ::read(file.get(), text.data() + length, text.size() - length);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return std::nullopt;
        }
        if (got == 0) {
            break;
        }
        length += static_cast<std::size_t>(got);
    }
    if (length > limit) { // grew while read
        return std::nullopt;
    }
    text.resize(length);
    return text;
}

void write_run_file(const std::string& directory, const std::string& name,
                    const std::string& text) {
    if (directory.empty() || !valid_file_name(name)) {
        return;
    }
    ::mkdir(std::filesystem::path(directory).parent_path().c_str(), 0755);
    ::mkdir(directory.c_str(), 0755);
    const UniqueFd folder = open_directory(directory);
    if (!folder) {
        return;
    }
    std::ostringstream suffix;
    suffix << ".tmp-" << ::getpid() << "-" << std::this_thread::get_id();
    const std::string temporary = name + suffix.str();
    const UniqueFd file(::openat(folder.get(), temporary.c_str(),
                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file) {
        return;
    }
    if (!write_all(file.get(), text) ||
        ::renameat(folder.get(), temporary.c_str(), folder.get(), name.c_str()) != 0) {
        ::unlinkat(folder.get(), temporary.c_str(), 0);
    }
}

void remove_run_file(const std::string& directory, const std::string& name) {
    if (directory.empty() || !valid_file_name(name)) {
        return;
    }
    if (const UniqueFd folder = open_directory(directory)) {
        ::unlinkat(folder.get(), name.c_str(), 0);
    }
}

} // namespace acctc::runtime
